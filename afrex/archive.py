"""The one archive step: an agent's state, out of its container and into the tenant's bucket.

Used by `afrex backup create` (one archive per agent under `backups/<id>/`) and by
`afrex scale down` (`archive_removed_agent`, before the agent's container goes).
An agent on ECS has no engine to read from: the same upload code runs in a one-off
task beside its state (`afrex.archive_task`, started by afrex/ecs_backup.py), which
writes the same objects.

The state directory (the catalog's `gateway.state_path`) is read through the
Docker engine's archive API (`GET /containers/{id}/archive`, what the SDK's
`container.get_archive` calls), so it works the same against a local socket or a
remote `docker:host`, and never touches a host path. The tar stream is
gzip-compressed as it arrives (1 MiB blocks compressed in parallel, each one gzip
member, stored rather than deflated when a probe shows it would not shrink; deflated
by ISA-L's igzip, `isal`, about four times zlib's speed at the same ratio, where it
is installed, by zlib otherwise: the output is standard gzip either way) and
sent as a multipart upload: parts of `PART_BYTES` go up on a few threads while the
next part is read and compressed, so only a few blocks and `PARTS_IN_FLIGHT + 1`
parts are ever held in memory and nothing is written to local disk. The SHA-256
of the uploaded object is computed on the way. Any failure aborts the multipart
upload (no half object is left behind; the bucket's lifecycle rule also aborts
stale uploads) and is reported as one line naming the agent, the bucket and the
cause.
"""

from __future__ import annotations

import hashlib
import threading
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from afrex import __version__
from afrex.errors import AfrexError, BadInput, OperationFailed


def _deflate_module() -> Any:
    """ISA-L's zlib-compatible igzip where installed: at level 1 it deflates agent state
    at ~550 MB/s against zlib's ~135 (bench/bench_backup.py); zlib otherwise (a platform
    without its wheel): the same gzip, slower."""
    try:
        from isal import isal_zlib
    except ImportError:
        return zlib
    return isal_zlib


deflate: Any = _deflate_module()

if TYPE_CHECKING:
    from afrex.deployed import TenantView

MiB = 1024 * 1024
PART_BYTES = 6 * MiB  # S3 parts: 5 MiB at least (but the last), 10,000 at most: 60 GB
PARTS_IN_FLIGHT = 3  # memory: about PARTS_IN_FLIGHT + 1 parts (bench/bench_backup.py)
READ_CHUNK_BYTES = 1 * MiB
ENGINE_READ_TIMEOUT_S = 60.0  # longest wait for the next bytes of the archive
# Level 1: agent state is mostly JSON and logs, which level 1 already shrinks several
# times; higher levels cost several times the CPU for a few percent (bench/bench_backup.py).
GZIP_LEVEL = 1
GZIP_WBITS = 31  # zlib's gzip container (header and CRC trailer)
BLOCK_BYTES = 1 * MiB  # input per gzip member; members are compressed in parallel
COMPRESS_THREADS = 2
SAMPLES, SAMPLE_BYTES = 2, 4 * 1024  # probed per block to skip deflating random bytes
STORE_ABOVE = 0.9  # a block whose samples shrink by less than 10% is stored
ARCHIVED_AGENTS_PREFIX = "archived-agents"
CHECKSUM_SUFFIX = ".sha256"
CONTENT_TYPE = "application/gzip"
# Each part's CRC32 is checked by S3 on arrival and again on completion (a composite
# checksum of the object); it also makes moto's completion of 256 MB about 1.8x faster.
PART_CHECKSUM = "CRC32"


@dataclass(frozen=True)
class ArchiveResult:
    """One agent's state as uploaded: where it is, how big, and its SHA-256."""

    agent: str
    bucket: str
    key: str  # the S3 object key
    size: int  # compressed bytes uploaded
    sha256: str  # hex digest of the uploaded object

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def state_path() -> str:
    """Where an agent keeps its state inside its container (the catalog's)."""
    from afrex.catalog import load_catalog

    return load_catalog().gateway.state_path


def one_line(error: BaseException) -> str:
    """An exception as one short line (SDK errors can span lines)."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def block_level(block: bytes) -> int:
    """`GZIP_LEVEL`, or 0 (stored) for a block that would not shrink: a few samples are
    compressed first, as deflating random bytes (embeddings, media) costs ten times
    storing them for no gain."""
    step = max(1, len(block) // SAMPLES)
    sample = b"".join(block[i : i + SAMPLE_BYTES] for i in range(0, len(block), step))
    if not sample:
        return GZIP_LEVEL
    shrunk = len(deflate.compress(sample, GZIP_LEVEL))
    return 0 if shrunk > STORE_ABOVE * len(sample) else GZIP_LEVEL


def gzip_member(block: bytes) -> list[bytes]:
    """One block as a whole gzip member (header, deflate stream, CRC trailer), in pieces:
    stored by zlib (level 0 is "stored" only in zlib; igzip's level 0 still deflates),
    deflated by `deflate` (igzip or zlib) at `GZIP_LEVEL`."""
    level = block_level(block)
    module: Any = deflate if level else zlib
    compressor = module.compressobj(level, zlib.DEFLATED, GZIP_WBITS)
    return [compressor.compress(block), compressor.flush()]


def blocks(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """`chunks` gathered into blocks of at least `size` bytes (the last may be smaller;
    at least one), each copied once."""
    gathered: list[bytes] = []
    count, cut = 0, False
    for chunk in chunks:
        gathered.append(chunk)
        count += len(chunk)
        if count >= size:
            yield b"".join(gathered)
            gathered, count, cut = [], 0, True
    if gathered or not cut:
        yield b"".join(gathered)


def gzip_parts(
    chunks: Iterable[bytes],
    part_bytes: int = PART_BYTES,
    block_bytes: int = BLOCK_BYTES,
    threads: int = COMPRESS_THREADS,
) -> Iterator[bytes]:
    """`chunks` as a gzip file cut into upload parts of at least `part_bytes` (the last
    may be smaller). The file is a series of gzip members, one per `block_bytes` of
    input, compressed `threads` at a time (zlib works outside the GIL) and kept in
    order; every gzip reader (gzip, tar xz, Python's gzip module) reads them as one."""
    pending: deque[Future[list[bytes]]] = deque()
    part: list[bytes] = []
    count, sent = 0, False
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="gzip") as pool:
        for block in blocks(chunks, block_bytes):
            pending.append(pool.submit(gzip_member, block))
            del block
            while len(pending) > threads or (pending and pending[0].done()):
                for piece in pending.popleft().result():
                    part.append(piece)
                    count += len(piece)
                if count >= part_bytes:
                    yield b"".join(part)
                    part, count, sent = [], 0, True
        for future in pending:
            part.extend(future.result())
    if part or not sent:
        yield b"".join(part)


class MultipartUpload:
    """A multipart upload whose parts go up on a few threads, at most `in_flight` at once.

    `send(part)` blocks while `in_flight` parts are still uploading and raises the first
    part failure; `complete()` waits for every part; `abort()` is safe to call at any time.
    """

    def __init__(
        self, s3: Any, bucket: str, key: str, metadata: dict[str, str], in_flight: int
    ) -> None:
        self.s3, self.bucket, self.key = s3, bucket, key
        created = s3.create_multipart_upload(
            Bucket=bucket, Key=key, ContentType=CONTENT_TYPE, Metadata=metadata,
            ChecksumAlgorithm=PART_CHECKSUM,
        )  # fmt: skip
        self.upload_id: str = created["UploadId"]
        self._slots = threading.BoundedSemaphore(in_flight)
        self._pool = ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="s3-part")
        self._parts: list[Future[dict[str, Any]]] = []

    def _upload(self, number: int, body: bytes) -> dict[str, Any]:
        try:
            answer = self.s3.upload_part(
                Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                PartNumber=number, Body=body, ChecksumAlgorithm=PART_CHECKSUM,
            )  # fmt: skip
            part = {"PartNumber": number, "ETag": answer["ETag"]}
            checksum = answer.get(f"Checksum{PART_CHECKSUM}")
            return {**part, f"Checksum{PART_CHECKSUM}": checksum} if checksum else part
        finally:
            self._slots.release()

    def _raise_failed(self) -> None:
        for future in self._parts:
            if future.done() and future.exception() is not None:
                future.result()

    def send(self, body: bytes) -> None:
        self._raise_failed()
        self._slots.acquire()
        try:
            self._parts.append(self._pool.submit(self._upload, len(self._parts) + 1, body))
        except BaseException:
            self._slots.release()
            raise

    def complete(self) -> None:
        parts = [future.result() for future in self._parts]
        self._pool.shutdown()
        self.s3.complete_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
            MultipartUpload={"Parts": parts},
        )  # fmt: skip

    def abort(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        try:
            self.s3.abort_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self.upload_id
            )
        except Exception:  # the bucket's lifecycle rule aborts what this call could not
            pass


def upload_stream(
    s3: Any,
    bucket: str,
    key: str,
    chunks: Iterable[bytes],
    metadata: dict[str, str] | None = None,
    in_flight: int = PARTS_IN_FLIGHT,
) -> tuple[int, str]:
    """Compress `chunks` into `s3://bucket/key` as a multipart upload; (size, sha256).
    Aborts the upload on any failure, including an interruption."""
    upload = MultipartUpload(s3, bucket, key, metadata or {}, in_flight)
    digest, size = hashlib.sha256(), 0
    try:
        for part in gzip_parts(chunks):
            digest.update(part)
            size += len(part)
            upload.send(part)
        upload.complete()
    except BaseException:
        upload.abort()
        raise
    return size, digest.hexdigest()


def _bucket_of(view: TenantView) -> str:
    if not view.bucket:
        raise BadInput(
            f"tenant {view.id} has no backup bucket in its stack outputs (never deployed?)",
            f"deploy it first: pulumi up -s {view.id}",
        )
    return view.bucket


@contextmanager
def state_stream(docker: Any, container: str, path: str) -> Iterator[Iterator[bytes]]:
    """The tar of `path` inside `container`, as chunks, from the engine's archive API
    (`GET /containers/{id}/archive`, what the SDK's `get_archive` calls, through the
    same client, so a remote `docker:host` works alike). Unlike `get_archive`, the read
    timeout stays on (a stalled engine fails instead of hanging the backup) and the
    response is closed however the reader stops."""
    api = docker.api
    url = f"{api.base_url}/v{api.api_version}/containers/{quote(container, safe='')}/archive"
    response = api.get(url, params={"path": path}, stream=True, timeout=ENGINE_READ_TIMEOUT_S)
    try:
        if response.status_code == 404:
            raise OperationFailed(f"no container {container} with a {path} folder on the engine")
        if response.status_code != 200:
            raise OperationFailed(
                f"the engine refused the archive of {container}:{path} "
                f"(HTTP {response.status_code}: {one_line(Exception(response.text))})"
            )
        yield response.iter_content(READ_CHUNK_BYTES)
    finally:
        response.close()


def archive_agent(
    view: TenantView, agent: str, key: str, *, s3: Any | None = None, docker: Any | None = None
) -> ArchiveResult:
    """Stream `agent`'s state directory into `s3://<tenant bucket>/<key>` (gzip, multipart);
    on ECS through a one-off task (which also stores `<key>.sha256`)."""
    if view.on_ecs:
        return _archive_on_ecs(view, agent, key, s3)
    deployed = view.agent(agent)
    bucket = _bucket_of(view)
    path = state_path()
    where = f"agent {agent} of {view.id} to s3://{bucket}/{key}"
    own_client = docker is None
    try:
        if s3 is None:
            from afrex.clients import s3 as s3_client

            s3 = s3_client()
        if docker is None:
            from afrex.engines import docker_client

            docker = docker_client(view.docker_host)
        metadata = {
            "afrex-tenant": view.id,
            "afrex-agent": agent,
            "afrex-state-path": path,
            "afrex-version": __version__,
        }
        with state_stream(docker, deployed.container, path) as chunks:
            size, sha256 = upload_stream(s3, bucket, key, chunks, metadata)
    except AfrexError as error:
        raise OperationFailed(f"cannot archive {where}: {error}") from None
    except Exception as error:  # requests, urllib3 and botocore errors alike
        raise OperationFailed(f"cannot archive {where}: {cause(error)}") from None
    finally:
        if own_client and docker is not None:
            docker.close()
    return ArchiveResult(agent=agent, bucket=bucket, key=key, size=size, sha256=sha256)


def _archive_on_ecs(view: TenantView, agent: str, key: str, s3: Any | None) -> ArchiveResult:
    from afrex.catalog import load_catalog
    from afrex.clients import s3 as s3_client
    from afrex.ecs_backup import archive_on_ecs

    (result,) = archive_on_ecs(view, {agent: key}, s3 or s3_client(), load_catalog())
    return result


def cause(error: Exception) -> str:
    """What went wrong, in one line, in the operator's words where the SDK's are obscure."""
    name = type(error).__name__
    if name in {"ConnectionError", "EndpointConnectionError", "ConnectTimeoutError"}:
        return f"unreachable: {one_line(error)}"
    if name in {"ReadTimeout", "ReadTimeoutError", "Timeout"}:
        return f"timed out: {one_line(error)}"
    response = getattr(error, "response", None)
    if isinstance(response, dict) and response.get("Error", {}).get("Code") == "NoSuchBucket":
        return "the bucket does not exist"
    return f"{name}: {one_line(error)}"


def archived_agent_key(agent: str, when: datetime) -> str:
    """`archived-agents/<agent>/<YYYYMMDD-HHMMSS>.tar.gz` (UTC)."""
    return f"{ARCHIVED_AGENTS_PREFIX}/{agent}/{when.astimezone(UTC):%Y%m%d-%H%M%S}.tar.gz"


def checksum_line(result: ArchiveResult) -> str:
    """The `<key>.sha256` object's text, as `sha256sum -c` reads it."""
    return f"{result.sha256}  {PurePosixPath(result.key).name}\n"


def archive_removed_agent(
    view: TenantView, agent: str, when: datetime | None = None
) -> ArchiveResult:
    """The scale-down archive: `agent`'s state to `archived-agents/<agent>/<stamp>.tar.gz`,
    its SHA-256 beside it (`<key>.sha256`), and an `agent.archived` event (on ECS, the
    one-off task stores the archive and its SHA-256 alike)."""
    from afrex.clients import s3 as s3_client
    from afrex.events import Event, open_event_log
    from afrex.stackfiles import find_project

    s3 = s3_client()
    result = archive_agent(view, agent, archived_agent_key(agent, when or datetime.now(UTC)), s3=s3)
    if not view.on_ecs:
        _store_checksum(s3, view, result)
    event = Event("agent.archived", view.id, result.as_dict())
    open_event_log(find_project().root).record(event)
    return result


def _store_checksum(s3: Any, view: TenantView, result: ArchiveResult) -> None:
    agent = result.agent
    try:
        s3.put_object(
            Bucket=result.bucket,
            Key=result.key + CHECKSUM_SUFFIX,
            Body=checksum_line(result).encode(),
            ContentType="text/plain",
        )
    except Exception as error:
        raise OperationFailed(
            f"archived agent {agent} of {view.id} to s3://{result.bucket}/{result.key} but "
            f"could not store its checksum: {one_line(error)}"
        ) from None
