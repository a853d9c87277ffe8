"""Drive the real policy pack over the analyzer gRPC interface, as the Pulumi engine does.

The pack (`policies/`) is started once as a subprocess of this Python; it prints
its port and serves the `pulumirpc.Analyzer` service. For each stack we send
`ConfigureStack`, one `Analyze` per registered resource and one `AnalyzeStack`
with all of them, and collect the diagnostics. Properties go over the wire as the
engine sends them: camelCase keys, numbers as floats, secrets as signature
objects. They are the inputs the program registered (in a real preview,
`AnalyzeStack` sees the planned state; here provider-computed outputs are
placeholders, so the registered inputs are what is checked).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from afrex.errors import OperationFailed
from afrex.offline.runtime import PlannedResource
from afrex.procs import child_setup
from afrex.yamlsafe import load_yaml_mapping

PACK_FOLDER = "policies"
START_TIMEOUT_SECONDS = 30.0
CALL_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 5.0
MAX_MESSAGE_BYTES = 400 * 1024 * 1024  # the engine's limit, for big stacks
LEVELS = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.DISABLED: "disabled",
    analyzer_pb2.REMEDIATE: "remediate",
}


@dataclass(frozen=True)
class Violation:
    """One diagnostic from the pack: which rule, how serious, what and where."""

    policy: str
    level: str
    message: str
    urn: str = ""

    @property
    def mandatory(self) -> bool:
        return self.level in ("mandatory", "remediate")

    @property
    def resource(self) -> str:
        """The resource's name from its URN (empty for the stack as a whole)."""
        return self.urn.rpartition("::")[2] if self.urn else ""

    def as_dict(self) -> dict[str, str]:
        return {
            "policy": self.policy,
            "level": self.level,
            "message": self.message,
            "urn": self.urn,
            "resource": self.resource,
        }


@dataclass(frozen=True)
class PackInfo:
    name: str
    version: str
    policies: list[str] = field(default_factory=list)


def find_policy_pack(project_root: Path) -> Path:
    """The project's `policies/` folder (the one `pulumi preview --policy-pack` uses)."""
    beside_code = Path(__file__).resolve().parents[2] / PACK_FOLDER  # a project of stacks only
    for pack in (project_root / PACK_FOLDER, beside_code):
        if (pack / "__main__.py").is_file():
            return pack
    pack = project_root / PACK_FOLDER
    raise OperationFailed(
        f"no policy pack at {pack}",
        "restore policies/ (PulumiPolicy.yaml and __main__.py) in the project",
    )


def _properties(inputs: dict[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(inputs, struct_pb2.Struct())


def _options(resource: PlannedResource) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=resource.protect,
        additionalSecretOutputs=list(resource.additional_secret_outputs),
        parent=resource.parent,
    )


def analyze_request(resource: PlannedResource) -> analyzer_pb2.AnalyzeRequest:
    return analyzer_pb2.AnalyzeRequest(
        type=resource.type,
        properties=_properties(resource.inputs),
        urn=resource.urn,
        name=resource.name,
        options=_options(resource),
    )


def stack_request(resources: Iterable[PlannedResource]) -> analyzer_pb2.AnalyzeStackRequest:
    return analyzer_pb2.AnalyzeStackRequest(
        resources=[
            analyzer_pb2.AnalyzerResource(
                type=r.type,
                properties=_properties(r.inputs),
                urn=r.urn,
                name=r.name,
                options=_options(r),
                parent=r.parent,
            )
            for r in resources
        ]
    )


def to_violation(diagnostic: analyzer_pb2.AnalyzeDiagnostic, urn: str = "") -> Violation:
    """A diagnostic as a Violation; the pack prefixes messages with the policy description."""
    text = diagnostic.message
    if diagnostic.description and text.startswith(diagnostic.description):
        text = text[len(diagnostic.description) :].strip() or text
    return Violation(
        policy=diagnostic.policyName,
        level=LEVELS.get(diagnostic.enforcementLevel, "advisory"),
        message=text,
        urn=diagnostic.urn or urn,
    )


class PolicyPackProcess:
    """The policy pack as a running analyzer; use as a context manager.

    Entering launches the process; the connection is made on first use, so the
    pack's start-up overlaps with planning the stacks.
    """

    def __init__(self, pack_dir: Path, python: str = sys.executable) -> None:
        self.pack_dir = pack_dir
        self.python = python
        self._info: PackInfo | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._stderr: IO[bytes] | None = None

    def __enter__(self) -> PolicyPackProcess:
        self.launch()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def info(self) -> PackInfo:
        """The pack's name, version (from PulumiPolicy.yaml) and policy names."""
        self.connect()
        assert self._info is not None
        return self._info

    def start(self) -> None:
        """Launch the pack and connect to it."""
        self.launch()
        self.connect()

    def launch(self) -> None:
        """Start the pack's process (`python policies/__main__.py`); it prints its port.

        The pack dies with this process (even a SIGKILLed one) and runs in its own
        process group, so Ctrl-C reaches only us and `stop` ends it in order.
        """
        if self._process is not None:
            return
        self._stderr = tempfile.TemporaryFile()
        self._process = subprocess.Popen(
            [self.python, "-u", str(self.pack_dir / "__main__.py")],
            cwd=self.pack_dir.parent,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            preexec_fn=child_setup(),
            process_group=0,
        )

    def connect(self) -> None:
        """Wait for the pack's port, open the channel and read its policies (once)."""
        if self._stub is not None:
            return
        self.launch()
        try:
            port = self._read_port()
            self._channel = grpc.insecure_channel(
                f"127.0.0.1:{port}",
                options=[
                    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ],
            )
            grpc.channel_ready_future(self._channel).result(timeout=START_TIMEOUT_SECONDS)
            self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
            self._info = self._read_info()
        except BaseException:
            self.stop()
            raise

    def _read_port(self) -> int:
        assert self._process is not None and self._process.stdout is not None
        stdout = self._process.stdout
        line: list[bytes] = []
        reader = threading.Thread(target=lambda: line.append(stdout.readline()))
        reader.daemon = True
        reader.start()
        reader.join(START_TIMEOUT_SECONDS)
        text = line[0].decode().strip() if line else ""
        if not text.isdigit():
            raise self._failure(f"the policy pack did not report a port (got {text!r})")
        return int(text)

    def _read_info(self) -> PackInfo:
        info = self._call("GetAnalyzerInfo", empty_pb2.Empty())
        manifest = self.pack_dir / "PulumiPolicy.yaml"
        version = info.version
        if manifest.is_file():  # the engine prefers the manifest's version, so do we
            data = load_yaml_mapping(manifest)  # the one YAML reader (afrex/yamlsafe.py)
            version = str(data.get("version") or version)
        return PackInfo(info.name, version, sorted(p.name for p in info.policies))

    def _call(self, method: str, request: Any) -> Any:
        if self._stub is None:
            raise self._failure("the policy pack is not running")
        try:
            return getattr(self._stub, method)(request, timeout=CALL_TIMEOUT_SECONDS)
        except grpc.RpcError as error:
            raise self._failure(f"{method} failed: {error.details() or error}") from None

    def analyze_stack(
        self, project: str, stack: str, resources: list[PlannedResource]
    ) -> list[Violation]:
        """Every violation the pack reports for one stack's resources and the stack."""
        self.connect()
        configure = analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=stack, project=project, dry_run=True
        )
        self._call("ConfigureStack", configure)
        violations: list[Violation] = []
        for resource in resources:
            response = self._call("Analyze", analyze_request(resource))
            violations.extend(to_violation(d, resource.urn) for d in response.diagnostics)
        response = self._call("AnalyzeStack", stack_request(resources))
        violations.extend(to_violation(d) for d in response.diagnostics)
        return violations

    def stop(self) -> None:
        """Close the channel and end the pack's process (by its pid)."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        self._stub = None
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process is not None and process.stdout is not None:
            process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def _failure(self, what: str) -> OperationFailed:
        return OperationFailed(
            f"policy pack {self.pack_dir}: {what}{self._stderr_tail()}",
            "run `python policies/__main__.py` to see why it does not start "
            "(pulumi-policy must be installed in this Python)",
        )

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        lines = self._stderr.read().decode(errors="replace").strip().splitlines()
        return f" ({lines[-1]})" if lines else ""
