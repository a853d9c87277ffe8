"""Rule agent-container-hardening: a passing container, then each violation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_NUMBER_VALUE

from policies.agent_container import validate_agent_container
from tests.policies.resources import CONTAINER, container, edited, resource_args, run_resource_rule


def problems(props: dict[str, Any], kind: str = CONTAINER) -> list[str]:
    return run_resource_rule(validate_agent_container, resource_args(kind, props))


@pytest.mark.parametrize("tier", ["starter", "growth", "enterprise"])
def test_component_built_container_passes(tier: str) -> None:
    assert problems(container(tier)) == []


def test_other_resource_types_are_ignored() -> None:
    assert problems({"privileged": True}, kind="docker:index/volume:Volume") == []


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda props: props.__setitem__(key, value)


def _memory(mb: float) -> Callable[[dict[str, Any]], None]:
    return lambda props: props.update(memory=mb, memorySwap=mb)


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda props: props.pop(key)


VIOLATIONS = [
    ("no memory", _drop("memory"), "memory: not set; set memory=1536"),
    ("memory over tier", _memory(4096.0), "4096 MB exceeds the growth tier's cap of 1536"),
    ("swap beyond memory", _set("memorySwap", 3072.0), "memory_swap: must equal memory"),
    ("no nproc", _set("ulimits", []), "ulimits: no nproc (pids) limit"),
    (
        "nproc over tier",
        _set("ulimits", [{"name": "nproc", "soft": 100.0, "hard": 4096.0}]),
        "nproc hard limit 4096 is not within the growth tier's pids_limit of 384",
    ),
    ("privileged", _set("privileged", True), "privileged: true"),
    ("caps kept", _set("capabilities", {"drops": ["NET_RAW"]}), '"ALL" is not dropped'),
    ("caps added", _set("capabilities", {"drops": ["ALL"], "adds": ["SYS_ADMIN"]}), "adds"),
    ("host network", _set("networkMode", "host"), "network_mode: host"),
    (
        "port on 0.0.0.0",
        _set("ports", [{"ip": "0.0.0.0", "internal": 18789.0}]),
        "port 18789 is published on all interfaces (ip 0.0.0.0)",
    ),
    (
        "port without ip",
        _set("ports", [{"internal": 18789.0}]),
        "published on all interfaces (ip unset)",
    ),
    ("no restart policy", _drop("restart"), "restart: 'no'"),
    ("restart no", _set("restart", "no"), 'set restart="unless-stopped"'),
    ("no healthcheck", _drop("healthcheck"), "healthcheck: none"),
    ("healthcheck NONE", _set("healthcheck", {"tests": ["NONE"]}), "healthcheck: none"),
    ("no log rotation", _set("logOpts", {"max-size": "10m"}), "log_opts: no max-file"),
    (
        "no tier label",
        _set("labels", [{"label": "afrex.tenant", "value": "cust-x-1767225600"}]),
        "labels: missing afrex.tier, afrex.agent",
    ),
    (
        "tier not in catalog",
        lambda p: p["labels"][1].__setitem__("value", "platinum"),
        "afrex.tier 'platinum' is not a tier in the catalog",
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"), [(c, e) for _, c, e in VIOLATIONS], ids=[i for i, _, _ in VIOLATIONS]
)
def test_each_violation_is_reported(
    change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    found = problems(edited(container(), change))
    assert len(found) == 1, found
    assert expected in found[0]


def test_starter_limits_apply_to_a_starter_container() -> None:
    props = edited(container("starter"), _memory(1536.0))
    (found,) = problems(props)
    assert "1536 MB exceeds the starter tier's cap of 1024 MB" in found


def test_capabilities_dropped_in_lower_case_pass() -> None:
    assert problems(edited(container(), _set("capabilities", {"drops": ["all"]}))) == []


def test_unknown_values_are_not_violations() -> None:
    """During preview a value can be unknown: the rule skips it instead of failing."""
    props = edited(container(), _set("memory", UNKNOWN_NUMBER_VALUE))
    props["ports"] = UNKNOWN_ARRAY_VALUE
    props["labels"] = UNKNOWN_ARRAY_VALUE
    assert problems(props) == []
