"""Run the real Pulumi program for a stack under the SDK's mock runtime.

No CLI, no engine, no credentials: the program registers its resources with a
recording mock monitor, which keeps what the engine would receive (type, name,
parent, inputs with secrets marked, protect/retain flags). Values a provider
would compute (ids, ARNs, ports) are deterministic placeholders.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks, settings
from pulumi.runtime.sync_await import _sync_await

from afrex.secretvalues import SECRET_PLACEHOLDER
from afrex.stackfiles import Project, StackFile

ACCOUNT = "123456789012"
REGION = "us-east-1"


@dataclass(frozen=True)
class PlannedResource:
    """A resource as the engine would see it, from the mocked run."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    protect: bool
    retain_on_delete: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    additional_secret_outputs: tuple[str, ...] = ()


@dataclass
class PlannedStack:
    """Everything one stack's program would create, plus its outputs."""

    stack: str
    resources: list[PlannedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: list[str] = field(default_factory=list)
    error: str | None = None


def _fake_hex(*parts: str, length: int = 64) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


class PlaceholderMocks(pulumi.runtime.Mocks):
    """Fills in what a provider would compute, deterministically per resource name."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        rid = f"{args.name}-id"
        kind = args.typ
        if kind == "aws:s3/bucket:Bucket":
            bucket = state.get("bucket", args.name)
            rid = bucket
            state.update(
                arn=f"arn:aws:s3:::{bucket}",
                bucketDomainName=f"{bucket}.s3.amazonaws.com",
                region=REGION,
            )
        elif kind == "aws:sns/topic:Topic":
            state["arn"] = f"arn:aws:sns:{REGION}:{ACCOUNT}:{state.get('name', args.name)}"
            rid = state["arn"]
        elif kind == "aws:sns/topicSubscription:TopicSubscription":
            rid = f"{state.get('topic', '')}:{_fake_hex(args.name, length=36)}"
            state["arn"] = rid
        elif kind == "aws:cloudwatch/metricAlarm:MetricAlarm":
            rid = state.get("name", args.name)
            state["arn"] = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{rid}"
        elif kind == "aws:cloudwatch/compositeAlarm:CompositeAlarm":
            rid = state.get("alarmName", args.name)
            state["arn"] = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{rid}"
        elif kind == "docker:index/remoteImage:RemoteImage":
            digest = _fake_hex(str(state.get("name")))
            state.update(
                imageId=f"sha256:{digest}", repoDigest=f"{state.get('name')}@sha256:{digest}"
            )
            rid = state["imageId"]
        elif kind == "docker:index/container:Container":
            rid = _fake_hex(args.name)
            port = 32768 + int(_fake_hex(args.name, length=6), 16) % 28000
            state["ports"] = [{**p, "external": port} for p in state.get("ports", [])]
        elif kind == "docker:index/volume:Volume":
            state["mountpoint"] = f"/var/lib/docker/volumes/{state.get('name')}/_data"
        elif kind == "docker:index/network:Network":
            rid = _fake_hex(args.name)
        elif args.custom:
            rid = _fake_hex(args.name, length=24)
        return rid, state

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/plan",
                "userId": "plan",
            }, None
        return {}, None


class RecordingMonitor(mocks.MockMonitor):
    """A mock monitor that also keeps each registration as the engine receives it."""

    def __init__(self, placeholder_mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(placeholder_mocks)
        self.recorded: list[PlannedResource] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == "pulumi:pulumi:Stack":
            return response
        registered = self.resources.get(response.urn)
        self.recorded.append(
            PlannedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent,
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                inputs=json_format.MessageToDict(request.object),
                outputs=dict(registered.state) if registered else {},
                additional_secret_outputs=tuple(request.additionalSecretOutputs),
            )
        )
        return response


def mock_config(stack: StackFile, project: Project) -> tuple[dict[str, str], list[str]]:
    """Stack config as the engine hands it to a program: strings, JSON for objects."""
    values: dict[str, str] = {}
    for key, value in stack.merged_config(project).items():
        if key in stack.secret_keys:
            values[key] = SECRET_PLACEHOLDER  # never decrypted for a plan
        elif isinstance(value, str):
            values[key] = value
        else:
            values[key] = json.dumps(value)
    return values, sorted(stack.secret_keys)


async def _resolve_outputs(raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    values: dict[str, Any] = {}
    secret: list[str] = []
    for key, value in raw.items():
        output = pulumi.Output.from_input(value)
        values[key] = await output.future()
        if await output.is_secret():
            secret.append(key)
    return values, secret


def run_stack(stack: StackFile, project: Project) -> PlannedStack:
    """Run the program for one stack under mocks and return what it registered."""
    from components.program import main  # the real program, imported once per process

    planned = PlannedStack(stack.name)
    monitor = RecordingMonitor(PlaceholderMocks())
    mocks.set_mocks(
        monitor.mocks, project=project.name, stack=stack.name, preview=False, monitor=monitor
    )
    values, secret_keys = mock_config(stack, project)
    pulumi.runtime.set_all_config(values, secret_keys)
    try:
        main()
        _sync_await(pulumi.runtime.stack.wait_for_rpcs())
        root = settings.get_root_resource()
        raw = dict(getattr(root, "outputs", {}) or {})
        planned.outputs, planned.secret_outputs = _sync_await(_resolve_outputs(raw))
    except pulumi.RunError as error:
        planned.error = str(error)
    except Exception as error:  # a program bug: report it per stack, keep planning others
        planned.error = f"{type(error).__name__}: {error}"
    finally:
        _drain_event_loop()
    planned.resources = monitor.recorded
    for key in planned.secret_outputs:
        planned.outputs[key] = SECRET_PLACEHOLDER
    return planned


def _drain_event_loop() -> None:
    """Let the SDK's pending tasks finish so the next stack starts clean."""
    try:
        _sync_await(pulumi.runtime.stack.wait_for_rpcs())
    except Exception:  # already reported through the stack's error
        loop = asyncio.get_event_loop()
        for task in asyncio.all_tasks(loop):
            task.cancel()
