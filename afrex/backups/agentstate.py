"""The engine side of a restore: replace an agent's state with a verified archive.

Only the Docker engine's API is used (never a host path), so a remote
`docker:host` works alike. With the agent's container stopped:

1. its state volume is emptied by a short-lived helper container made from the
   agent's own image (already on that engine) with the volume mounted, running
   `/bin/sh -c 'rm -rf ...'` as root (the image must have a shell, as the gateway
   image has);
2. the archive is unpacked into the container by the archive API (`put_archive`),
   streamed from the local file, never read into memory whole;
3. the container is started, and waited for until running (and healthy, where the
   engine reports health), within a timeout.

Also `check_archive`: a downloaded archive must hold the state folder and nothing
outside it (no absolute names, no `..`, no devices), read before anything changes.
"""

from __future__ import annotations

import gzip
import tarfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from afrex.archive import one_line
from afrex.errors import OperationFailed

STOP_GRACE_S = 10
HELPER_MOUNT = "/afrex-restore-state"
HELPER_TIMEOUT_S = 120
HELPER_LABEL = "afrex.role"
EMPTY_SCRIPT = f'cd {HELPER_MOUNT} && rm -rf -- ./* ./.[!.]* ./..?* && [ -z "$(ls -A)" ]'
NO_SHELL_CODES = frozenset({126, 127})  # the shell or rm could not run: nothing deleted
WAIT_STEP_S = 0.5
PUT_CHUNK_BYTES = 1024 * 1024
ALLOWED_TYPES = frozenset({tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE})


@dataclass(frozen=True)
class AgentRestored:
    """An agent back on its restored state."""

    agent: str
    container: str
    state: str
    health: str | None
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "container": self.container,
            "state": self.state,
            "health": self.health,
            "seconds": round(self.seconds, 3),
        }


def _inside(name: str, top: str) -> bool:
    path = PurePosixPath(name)
    return (
        not path.is_absolute()
        and ".." not in path.parts
        and (path.parts[:1] == (top,) or name.rstrip("/") == top)
    )


def check_archive(path: Path, state_path: str) -> int:
    """Read the whole archive: it must hold only the state folder's entries (its top
    folder named as the state folder). Returns the number of entries."""
    top = PurePosixPath(state_path).name
    count = 0
    try:
        with tarfile.open(path, mode="r:gz") as tar:  # reads every gzip member
            for member in tar:
                count += 1
                linked = member.islnk() and not _inside(member.linkname, top)
                if not _inside(member.name, top) or linked:
                    raise ValueError(f"entry {member.name!r} is outside {top}/")
                if member.type not in ALLOWED_TYPES and not member.islnk():
                    raise ValueError(f"entry {member.name!r} is a device or fifo")
    except (tarfile.TarError, OSError, EOFError, ValueError, zlib.error) as error:
        raise OperationFailed(
            f"the archive {path.name} is not a state archive: {error}",
            "nothing was changed; restore another backup",
        ) from None
    if count == 0:
        raise OperationFailed(f"the archive {path.name} is empty", "nothing was changed")
    return count


def _chunks(archive: Path) -> Iterator[bytes]:
    with gzip.open(archive, "rb") as source:
        while chunk := source.read(PUT_CHUNK_BYTES):
            yield chunk


def state_volume(container: Any, state_path: str) -> str:
    """The volume mounted at the state path of `container` (its attrs)."""
    for mount in container.attrs.get("Mounts") or []:
        if mount.get("Destination") == state_path and mount.get("Type") == "volume":
            return str(mount["Name"])
    raise OperationFailed(
        f"container {container.name} has no volume mounted at {state_path}",
        "its state is not where the catalog says; check the stack",
    )


class StateUntouched(OperationFailed):
    """The state could not be emptied, and nothing in it was deleted."""


def empty_volume(docker: Any, image: str, volume: str) -> None:
    """Delete everything in `volume`, from a helper container of `image`."""
    try:
        helper = docker.containers.run(
            image,
            entrypoint=["/bin/sh", "-c", EMPTY_SCRIPT],
            command=[],
            user="0",
            volumes={volume: {"bind": HELPER_MOUNT, "mode": "rw"}},
            network_mode="none",
            labels={HELPER_LABEL: "restore-helper"},
            detach=True,
        )
    except Exception as error:
        raise StateUntouched(
            f"could not start a helper to empty volume {volume}: {error}"
        ) from None
    try:
        status = helper.wait(timeout=HELPER_TIMEOUT_S)
        code = status.get("StatusCode")
        if code != 0:
            logs = " ".join(helper.logs().decode(errors="replace").split())[:200]
            failed = StateUntouched if code in NO_SHELL_CODES else OperationFailed
            raise failed(f"could not empty volume {volume} (exit {code}): {logs}")
    finally:
        helper.remove(force=True)


def wait_until_up(container: Any, timeout: float) -> tuple[str, str | None]:
    """Wait until the container runs (and is healthy where the engine reports health)."""
    deadline = time.monotonic() + timeout
    while True:
        container.reload()
        state = container.attrs.get("State") or {}
        status = str(state.get("Status", "unknown"))
        health = (state.get("Health") or {}).get("Status") or None
        if status == "running" and health in (None, "healthy"):
            return status, health
        if status in {"exited", "dead"} or time.monotonic() >= deadline:
            shown = f"{status}, {health}" if health else status
            raise OperationFailed(
                f"container {container.name} is {shown} after the restore "
                f"(waited up to {timeout:.0f} s); its state was restored",
                f"check it with `docker logs {container.name}`",
            )
        time.sleep(WAIT_STEP_S)


def replace_state(
    docker: Any, agent: str, container_name: str, state_path: str, archive: Path, timeout: float
) -> AgentRestored:
    """Stop the agent, replace its state with `archive`, start it and wait for it."""
    clock = time.perf_counter()
    container = docker.containers.get(container_name)
    volume = state_volume(container, state_path)
    container.stop(timeout=STOP_GRACE_S)
    try:
        empty_volume(docker, str(container.attrs["Image"]), volume)
        container.put_archive(str(PurePosixPath(state_path).parent), _chunks(archive))
    except StateUntouched:
        container.start()  # nothing was deleted: the agent goes back as it was
        raise
    except Exception as error:
        raise OperationFailed(
            f"agent {agent}: the state was not fully restored ({one_line(error)}); "
            f"container {container_name} is left stopped",
            "run the same restore again",
        ) from None
    container.start()
    state, health = wait_until_up(container, timeout)
    return AgentRestored(agent, container_name, state, health, time.perf_counter() - clock)
