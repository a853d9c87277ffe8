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
from collections.abc import Callable, Mapping
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
STACK_REFERENCE = "pulumi:pulumi:StackReference"


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


def _aws_id(prefix: str) -> Callable[[str, dict[str, Any]], str]:
    """EC2/EFS-style ids: `<prefix>-<17 hex>` (vpc-, subnet-, sg-, fs-, fsap-...)."""
    return lambda name, state: f"{prefix}-{_fake_hex(prefix, name, length=17)}"


def _arn(service: str, resource: str, regional: bool = True) -> str:
    return f"arn:aws:{service}:{REGION if regional else ''}:{ACCOUNT}:{resource}"


def _ecs_cluster(name: str, state: dict[str, Any]) -> str:
    state["arn"] = _arn("ecs", f"cluster/{state.get('name', name)}")
    return str(state["arn"])


def _ecs_task_definition(name: str, state: dict[str, Any]) -> str:
    family = str(state.get("family", name))
    state.update(
        revision=1,
        arn=_arn("ecs", f"task-definition/{family}:1"),
        arnWithoutRevision=_arn("ecs", f"task-definition/{family}"),
    )
    return family


def _ecs_service(name: str, state: dict[str, Any]) -> str:
    cluster = str(state.get("cluster", "")).rpartition("/")[2] or "default"
    state["arn"] = _arn("ecs", f"service/{cluster}/{state.get('name', name)}")
    return str(state["arn"])


def _efs(kind: str, prefix: str) -> Callable[[str, dict[str, Any]], str]:
    def make(name: str, state: dict[str, Any]) -> str:
        rid = _aws_id(prefix)(name, state)
        state["arn"] = _arn("elasticfilesystem", f"{kind}/{rid}")
        if prefix == "fs":
            state["dnsName"] = f"{rid}.efs.{REGION}.amazonaws.com"
        else:
            fs = str(state.get("fileSystemId", ""))
            state["fileSystemArn"] = _arn("elasticfilesystem", f"file-system/{fs}")
        return rid

    return make


def _log_group(name: str, state: dict[str, Any]) -> str:
    group = str(state.get("name", name))
    state["arn"] = _arn("logs", f"log-group:{group}")
    return group


def _secret(name: str, state: dict[str, Any]) -> str:
    secret = str(state.get("name", name))
    state["arn"] = _arn("secretsmanager", f"secret:{secret}-{_fake_hex(secret, length=6)}")
    return str(state["arn"])


def _secret_version(name: str, state: dict[str, Any]) -> str:
    state.pop("secretString", None)  # a provider keeps it secret; the plan never shows it
    version = _fake_hex(name, length=32)
    state["versionId"] = version
    return f"{state.get('secretId', '')}|{version}"


def _iam_role(name: str, state: dict[str, Any]) -> str:
    role = str(state.get("name", name))
    state.update(
        arn=_arn("iam", f"role/{role}", regional=False), uniqueId=_fake_hex(role, length=21)
    )
    return role


def _with_public_ip(prefix: str) -> Callable[[str, dict[str, Any]], str]:
    """NAT gateways and elastic IPs: an id and a documentation-range public address."""

    def make(name: str, state: dict[str, Any]) -> str:
        state["publicIp"] = f"198.51.100.{int(_fake_hex(name, length=2), 16) % 254 + 1}"
        return _aws_id(prefix)(name, state)

    return make


# Provider-computed values of the resource types ECS tenants and the platform use.
AWS_PLACEHOLDERS: dict[str, Callable[[str, dict[str, Any]], str]] = {
    "aws:ec2/vpc:Vpc": _aws_id("vpc"),
    "aws:ec2/subnet:Subnet": _aws_id("subnet"),
    "aws:ec2/internetGateway:InternetGateway": _aws_id("igw"),
    "aws:ec2/routeTable:RouteTable": _aws_id("rtb"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _aws_id("rtbassoc"),
    "aws:ec2/eip:Eip": _with_public_ip("eipalloc"),
    "aws:ec2/natGateway:NatGateway": _with_public_ip("nat"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": _aws_id("vpce"),
    "aws:ec2/securityGroup:SecurityGroup": _aws_id("sg"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _aws_id("sgr"),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _aws_id("sgr"),
    "aws:ecs/cluster:Cluster": _ecs_cluster,
    "aws:ecs/taskDefinition:TaskDefinition": _ecs_task_definition,
    "aws:ecs/service:Service": _ecs_service,
    "aws:efs/fileSystem:FileSystem": _efs("file-system", "fs"),
    "aws:efs/accessPoint:AccessPoint": _efs("access-point", "fsap"),
    "aws:efs/mountTarget:MountTarget": _aws_id("fsmt"),
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:secretsmanager/secretVersion:SecretVersion": _secret_version,
    "aws:iam/role:Role": _iam_role,
}


class PlaceholderMocks(pulumi.runtime.Mocks):
    """Fills in what a provider would compute, deterministically per resource name.

    `stack_outputs` are the outputs of the stacks a program references by name
    (`pulumi.StackReference`): the platform stack's own offline plan (see
    `afrex.offline.platformref`)."""

    def __init__(self, stack_outputs: Mapping[str, dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.stack_outputs = dict(stack_outputs or {})

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        rid = f"{args.name}-id"
        kind = args.typ
        if kind == STACK_REFERENCE:
            reference = str(state.get("name", args.name))
            outputs = self.stack_outputs.get(reference, {})
            return reference, {"name": reference, "outputs": outputs, "secretOutputNames": []}
        if kind in AWS_PLACEHOLDERS:
            return AWS_PLACEHOLDERS[kind](args.name, state), state
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
    """Run the tenant program for one stack under mocks and return what it registered.

    An ECS tenant's platform stack is planned first (once per process, see
    `afrex.offline.platformref`) and its outputs answer the tenant's StackReference;
    a platform that cannot be planned is a ConfigError naming the tenant's key."""
    from afrex.offline.platformref import referenced_outputs
    from components.program import main  # the real program, imported once per process

    return run_program(main, stack, project, referenced_outputs(stack, project))


def run_program(
    program: Callable[[], None],
    stack: StackFile,
    project: Project,
    stack_outputs: Mapping[str, dict[str, Any]] | None = None,
) -> PlannedStack:
    """Run `program` for one stack of `project` under mocks; `stack_outputs` answer its
    StackReferences by referenced stack name."""
    planned = PlannedStack(stack.name)
    monitor = RecordingMonitor(PlaceholderMocks(stack_outputs))
    _ensure_event_loop()
    settings.ROOT.set(None)  # a root stack resource of this stack, not of the one before
    mocks.set_mocks(
        monitor.mocks, project=project.name, stack=stack.name, preview=False, monitor=monitor
    )
    values, secret_keys = mock_config(stack, project)
    pulumi.runtime.set_all_config(values, secret_keys)
    try:
        program()
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


def _ensure_event_loop() -> None:
    """The SDK registers resources on the thread's current event loop; an `asyncio.run`
    elsewhere in this process (a probe, an upload) ends by leaving none, or a closed one."""
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        loop = None
    if loop is None or loop.is_closed():
        asyncio.set_event_loop(asyncio.new_event_loop())


def _drain_event_loop() -> None:
    """Let the SDK's pending tasks finish so the next stack starts clean."""
    try:
        _sync_await(pulumi.runtime.stack.wait_for_rpcs())
    except Exception:  # already reported through the stack's error
        loop = asyncio.get_event_loop()
        for task in asyncio.all_tasks(loop):
            task.cancel()
