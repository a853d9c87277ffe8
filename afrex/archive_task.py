"""`python -m afrex.archive_task`: the archive step, run inside a one-off ECS task.

An ECS agent's state is on EFS, reachable only from a task that mounts the
agent's access point. `afrex backup` and `afrex scale down` run this entry point
in such a task (afrex/ecs_oneoff.py), the access point mounted where the gateway
mounts it (the catalog's state path), so archives are the same on both runtimes:

    archive --source DIR --bucket B --key K --tenant T --agent A [--owner UID:GID]
        a tar of DIR (its top entry named as DIR, as the Docker engine's archive API
        names it; owners set to the gateway's user), gzip-compressed and uploaded as
        a multipart upload by the Docker path's own code (`afrex.archive`), then its
        SHA-256 beside it as `<K>.sha256`; prints the result as one JSON line.

    restore --target DIR --bucket B --key K --sha256 H --size N --scratch TMP
        downloads the archive to TMP, checking its size and SHA-256 (the manifest's)
        and that every entry is inside the state folder: a mismatch exits 3 with
        nothing changed. Then DIR is emptied and the archive unpacked into it.

Exit codes: 0 done; 1 failed (a restore may have replaced part of the state: run
it again); 2 bad arguments; 3 refused before anything changed. Errors are one
line on stderr (the task's log). Needs only boto3 and pydantic: the ops image
(platform/ops-image/Dockerfile).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tarfile
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from queue import Empty, Full, Queue
from typing import Any

from afrex import __version__
from afrex.archive import (
    CHECKSUM_SUFFIX,
    READ_CHUNK_BYTES,
    ArchiveResult,
    checksum_line,
    one_line,
    upload_stream,
)
from afrex.errors import AfrexError, BadInput, OperationFailed

QUEUE_CHUNKS = 4  # tar chunks read ahead of the compressor (memory: a few MiB)
WAIT_S = 0.5
EXIT_FAILED, EXIT_BAD_INPUT, EXIT_UNTOUCHED = 1, 2, 3
SKIPPED_TYPES = (tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE)


class Untouched(OperationFailed):
    """Refused before anything in the state changed."""


class _QueueWriter:
    """A write-only file for tarfile's stream mode, handing each write to a queue (waits
    while the reader is behind; gives up once it has stopped reading)."""

    def __init__(self, queue: Queue[Any], stopped: threading.Event) -> None:
        self.queue, self.stopped = queue, stopped

    def write(self, data: bytes) -> int:
        while not self.stopped.is_set():
            try:
                self.queue.put(bytes(data), timeout=WAIT_S)
                return len(data)
            except Full:
                continue
        raise OSError("the archive's reader stopped")


def tar_chunks(folder: Path, owner: tuple[int, int] | None) -> Iterator[bytes]:
    """A tar of `folder` (top entry `folder.name`), as chunks, written on a thread while
    the caller compresses and uploads; devices and fifos are left out."""
    queue: Queue[Any] = Queue(maxsize=QUEUE_CHUNKS)
    stopped, done = threading.Event(), object()

    def owned(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        if info.type in SKIPPED_TYPES:
            return None
        if owner is not None:
            info.uid, info.gid = owner
            info.uname = info.gname = ""
        return info

    def write() -> None:
        try:
            writer: Any = _QueueWriter(queue, stopped)
            with tarfile.open(
                fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT, bufsize=READ_CHUNK_BYTES
            ) as tar:
                tar.add(folder, arcname=folder.name, filter=owned)
            outcome: Any = done
        except BaseException as error:  # handed to the reader, which raises it
            outcome = error
        while not stopped.is_set():
            try:
                queue.put(outcome, timeout=WAIT_S)
                return
            except Full:
                continue

    thread = threading.Thread(target=write, name="tar", daemon=True)
    thread.start()
    try:
        while True:
            item = queue.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stopped.set()
        while True:
            try:
                queue.get_nowait()
            except Empty:
                break
        thread.join(timeout=5)


def archive(
    source: Path, bucket: str, key: str, tenant: str, agent: str, owner: tuple[int, int] | None
) -> ArchiveResult:
    """`source` as a gzip tar in `s3://bucket/key`, and its SHA-256 in `<key>.sha256`."""
    from afrex.clients import s3 as s3_client

    if not source.is_dir():
        raise BadInput(f"{source} is not a folder (is the agent's access point mounted?)")
    s3 = s3_client()
    metadata = {
        "afrex-tenant": tenant,
        "afrex-agent": agent,
        "afrex-state-path": str(source),
        "afrex-version": __version__,
        "afrex-runtime": "ecs",
    }
    size, sha256 = upload_stream(s3, bucket, key, tar_chunks(source, owner), metadata)
    result = ArchiveResult(agent=agent, bucket=bucket, key=key, size=size, sha256=sha256)
    s3.put_object(
        Bucket=bucket,
        Key=key + CHECKSUM_SUFFIX,
        Body=checksum_line(result).encode(),
        ContentType="text/plain",
    )
    return result


def _stripped(name: str, top: str) -> str:
    return name[len(top) + 1 :] if name.startswith(top + "/") else ""


def _members(tar: tarfile.TarFile, top: str) -> Iterator[tarfile.TarInfo]:
    """The archive's entries relative to its top folder (the folder itself left out)."""
    for member in tar:
        relative = _stripped(member.name.rstrip("/"), top)
        if not relative:
            continue
        member.name = relative
        if member.islnk():
            member.linkname = _stripped(member.linkname, top)
        yield member


def empty_folder(folder: Path) -> None:
    """Delete everything inside `folder` (not the folder: it is the access point's root)."""
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def restore(
    target: Path, bucket: str, key: str, sha256: str, size: int, scratch: Path
) -> dict[str, Any]:
    """Replace `target`'s content with the verified archive `s3://bucket/key`."""
    from afrex.backups.agentstate import check_archive
    from afrex.backups.manifest import ArchivedAgent
    from afrex.backups.store import download_verified
    from afrex.clients import s3 as s3_client

    if not target.is_dir():
        raise Untouched(f"{target} is not a folder (is the agent's access point mounted?)")
    with tempfile.TemporaryDirectory(dir=scratch, prefix="afrex-restore-") as folder:
        archive_path = Path(folder) / "state.tar.gz"
        try:
            download_verified(
                s3_client(), bucket, ArchivedAgent("", key, size, sha256), archive_path
            )
            entries = check_archive(archive_path, str(target))
        except OperationFailed as error:
            raise Untouched(error.message, error.hint) from None
        empty_folder(target)
        with tarfile.open(archive_path, mode="r:gz") as tar:
            tar.extractall(target, members=_members(tar, target.name), filter="tar")
    return {"bucket": bucket, "key": key, "size": size, "sha256": sha256, "entries": entries}


def _owner(value: str) -> tuple[int, int]:
    uid, _, gid = value.partition(":")
    if not (uid.isdigit() and gid.isdigit()):
        raise argparse.ArgumentTypeError(f"{value!r} is not UID:GID")
    return int(uid), int(gid)


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m afrex.archive_task", description=__doc__)
    steps = main.add_subparsers(dest="step", required=True)
    out = steps.add_parser("archive", help="archive a state folder to S3")
    out.add_argument("--source", type=Path, required=True)
    out.add_argument("--owner", type=_owner, default=None)
    for name in ("--bucket", "--key", "--tenant", "--agent"):
        out.add_argument(name, required=True)
    back = steps.add_parser("restore", help="restore a state folder from S3")
    back.add_argument("--target", type=Path, required=True)
    back.add_argument("--scratch", type=Path, default=Path(tempfile.gettempdir()))
    back.add_argument("--size", type=int, required=True)
    for name in ("--bucket", "--key", "--sha256"):
        back.add_argument(name, required=True)
    return main


def main(argv: Sequence[str] | None = None) -> int:
    """Run one step; print its result (one JSON line) or one error line."""
    arguments = parser().parse_args(argv)
    try:
        if arguments.step == "archive":
            result = archive(
                arguments.source,
                arguments.bucket,
                arguments.key,
                arguments.tenant,
                arguments.agent,
                arguments.owner,
            ).as_dict()
        else:
            result = restore(
                arguments.target,
                arguments.bucket,
                arguments.key,
                arguments.sha256,
                arguments.size,
                arguments.scratch,
            )
    except Untouched as error:
        print(f"afrex.archive_task: {error} (nothing was changed)", file=sys.stderr)
        return EXIT_UNTOUCHED
    except AfrexError as error:
        print(f"afrex.archive_task: {error}", file=sys.stderr)
        return error.exit_code
    except Exception as error:  # botocore, OS and tar errors alike: one line
        print(f"afrex.archive_task: {type(error).__name__}: {one_line(error)}", file=sys.stderr)
        return EXIT_FAILED
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
