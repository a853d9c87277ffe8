"""The agent container the program plans, run for real on Podman's Docker API.

The container's planned inputs (from the real program under mocks) are handed to
the engine as pulumi-docker would hand them, with two test stand-ins: the image
is a local busybox (no registry here) and, as it has no Node, the gateway and
its healthcheck are busybox's `httpd` and `wget` on the same port and path.
Everything else (limits, capabilities, privileges, ports, volume, network,
restart and log settings) is the plan's own.
"""

from __future__ import annotations

import re
import urllib.request
from typing import Any

import pytest

from afrex.offline.runtime import PlannedStack, run_stack
from afrex.secretvalues import unwrap_secrets
from afrex.stackfiles import Project
from tests.engine import TEST_IMAGE, TEST_LABEL, Engine, engine
from tests.helpers import make_stack

__all__ = ["engine"]

TENANT = "cust-podman-check-1767225600"
SPEC = {
    "company": "Podman Check",
    "contact": "ops@podman.check",
    "tier": "starter",
    "vertical": "general",
}
UNITS = {"ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


def nanoseconds(duration: str) -> int:
    value, unit = re.fullmatch(r"(\d+)(ms|s|m|h)", duration).groups()  # type: ignore[union-attr]
    return int(value) * UNITS[unit]


def planned(kind: str, stack: PlannedStack) -> dict[str, Any]:
    (found,) = [r for r in stack.resources if r.type == kind]
    return dict(unwrap_secrets(found.inputs))


def run_planned(engine: Engine, stack: PlannedStack) -> Any:
    """Create the planned network, volume and container on the engine."""
    client = engine.client
    net = planned("docker:index/network:Network", stack)
    vol = planned("docker:index/volume:Volume", stack)
    box = planned("docker:index/container:Container", stack)
    for leftover in client.containers.list(all=True, filters={"name": box["name"]}):
        leftover.remove(force=True)
    for name in (net["name"],):
        for old in client.networks.list(names=[name]):
            old.remove()
    labels = {TEST_LABEL: "1"}
    client.networks.create(
        net["name"],
        driver=net["driver"],
        options=net["options"],
        internal=net["internal"],
        labels=labels,
    )
    client.volumes.create(vol["name"], labels=labels)
    health = box["healthcheck"]
    port = int(box["ports"][0]["internal"])
    return client.containers.run(
        TEST_IMAGE,
        ["/bin/busybox", "httpd", "-f", "-p", str(port), "-h", "/www"],
        name=box["name"],
        hostname=box["hostname"],
        detach=True,
        network=net["name"],
        volumes={vol["name"]: {"bind": box["volumes"][0]["containerPath"], "mode": "rw"}},
        mem_limit=f"{int(box['memory'])}m",
        memswap_limit=f"{int(box['memorySwap'])}m",
        nano_cpus=int(float(box["cpus"]) * 10**9),
        ulimits=[_ulimit(u) for u in box["ulimits"]],
        cap_drop=box["capabilities"]["drops"],
        security_opt=box["securityOpts"],
        privileged=box["privileged"],
        init=box["init"],
        restart_policy={"Name": box["restart"]},
        log_config={"Type": box["logDriver"], "Config": box["logOpts"]},
        ports={f"{port}/tcp": (box["ports"][0]["ip"], None)},
        environment=box["envs"],
        labels={**{item["label"]: item["value"] for item in box["labels"]}, **labels},
        healthcheck={
            "test": [
                "CMD",
                "/bin/busybox",
                "wget",
                "-q",
                "-O-",
                f"http://127.0.0.1:{port}/healthz",
            ],
            "interval": nanoseconds(health["interval"]),
            "timeout": nanoseconds(health["timeout"]),
            "retries": int(health["retries"]),
            "start_period": nanoseconds(health["startPeriod"]),
        },
    )


def _ulimit(entry: dict[str, Any]) -> Any:
    import docker

    return docker.types.Ulimit(name=entry["name"], soft=int(entry["soft"]), hard=int(entry["hard"]))


@pytest.fixture(scope="module")
def container(engine: Engine, project: Project) -> Any:
    stack = run_stack(make_stack(TENANT, SPEC), project)
    assert stack.error is None, stack.error
    box = run_planned(engine, stack)
    box.reload()
    return box


def proc_status(container: Any) -> str:
    result = container.exec_run(["/bin/busybox", "cat", "/proc/1/status"])
    assert result.exit_code == 0, result.output
    return str(result.output.decode())


def test_the_hardened_container_runs(container: Any) -> None:
    assert container.status == "running", container.logs()
    host = container.attrs["HostConfig"]
    assert host["Memory"] == 1024 * 1024 * 1024 and host["MemorySwap"] == host["Memory"]
    assert host["NanoCpus"] == 500_000_000
    assert host["RestartPolicy"]["Name"] == "unless-stopped"
    assert not host.get("Privileged")


def test_no_capabilities_and_no_new_privileges(container: Any) -> None:
    status = proc_status(container)
    assert re.search(r"^CapEff:\s+0+$", status, re.M), status
    assert re.search(r"^CapBnd:\s+0+$", status, re.M), status
    assert re.search(r"^NoNewPrivs:\s+1$", status, re.M), status


def test_process_and_file_limits(container: Any) -> None:
    result = container.exec_run(["/bin/busybox", "sh", "-c", "ulimit -u; ulimit -n"])
    assert result.output.decode().split() == ["256", "4096"]


def test_gateway_port_only_on_loopback_and_healthy(container: Any, engine: Engine) -> None:
    (binding,) = container.attrs["NetworkSettings"]["Ports"]["18789/tcp"]
    assert binding["HostIp"] == "127.0.0.1"
    url = f"http://127.0.0.1:{binding['HostPort']}/healthz"
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.read() == b"ok\n"
    # Podman schedules healthchecks with systemd timers, absent here: run the planned one.
    check = engine.podman("healthcheck", "run", container.name)
    assert check.returncode == 0, check.stdout + check.stderr


def test_state_volume_is_mounted(container: Any) -> None:
    mounts = {m["Destination"]: m for m in container.attrs["Mounts"]}
    assert mounts["/home/node/.openclaw"]["Name"] == f"afrex-{TENANT}-general-assistant-state"
