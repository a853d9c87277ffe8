"""The offline plan: every stack's program run under mocks, summarised per
tenant (resources and their key settings) and for the fleet (tenants, agents,
MRR), then checked by the real policy pack over gRPC. Provider-computed values
(ids, ARNs, ports) are placeholders."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from afrex.catalog import Catalog
from afrex.offline.analyzer import PackInfo, PolicyPackProcess, Violation, find_policy_pack
from afrex.offline.ecs_summaries import ECS_SUMMARIES
from afrex.offline.runtime import PlannedResource, PlannedStack, run_stack
from afrex.pricing import monthly_recurring, plan_price
from afrex.secretvalues import mask_secrets, unwrap_secrets
from afrex.stackfiles import Project, StackFile
from afrex.tenants import tenant_from_stack

PLACEHOLDER_NOTE = (
    "offline plan: the real program under Pulumi's mock runtime; ids, ARNs and ports are "
    "placeholders a provider would compute"
)


@dataclass
class TenantPlan:
    """One tenant's planned resources, or why it could not be planned."""

    stack: str
    resources: list[PlannedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    tier: str = ""
    vertical: str = ""
    agents: int = 0
    mrr: Decimal = Decimal(0)
    error: str | None = None
    violations: list[Violation] = field(default_factory=list)

    @property
    def mandatory(self) -> list[Violation]:
        """Violations that block the change (mandatory policies)."""
        return [v for v in self.violations if v.mandatory]

    @property
    def advisory(self) -> list[Violation]:
        return [v for v in self.violations if not v.mandatory]

    def rows(self) -> list[dict[str, str]]:
        """Resources to create, named relative to the tenant, grouped by part; `digest`
        changes whenever a resource's inputs or options do (for `--base` diffs)."""
        prefix = f"{self.stack}-"
        rows = [
            {
                "type": short_type(r.type),
                "name": r.name.removeprefix(prefix),
                "settings": key_settings(r),
                "digest": resource_digest(r),
            }
            for r in self.resources
            if r.custom
        ]
        return sorted(rows, key=lambda row: (row["name"], row["type"]))

    def to_cache(self) -> dict[str, Any]:
        """A JSON-able copy (secrets stay masked: outputs already are, inputs are marked)."""
        entry = asdict(self)
        entry["mrr"] = str(self.mrr)
        return entry

    @classmethod
    def from_cache(cls, entry: dict[str, Any]) -> TenantPlan:
        resources = [
            PlannedResource(
                **{**r, "additional_secret_outputs": tuple(r["additional_secret_outputs"])}
            )
            for r in entry["resources"]
        ]
        return cls(
            stack=entry["stack"],
            resources=resources,
            outputs=entry["outputs"],
            tier=entry["tier"],
            vertical=entry["vertical"],
            agents=entry["agents"],
            mrr=Decimal(entry["mrr"]),
            error=entry["error"],
            violations=[Violation(**v) for v in entry["violations"]],
        )


@dataclass
class FleetPlan:
    tenants: list[TenantPlan]
    policy: PackInfo | None = None

    @property
    def planned(self) -> list[TenantPlan]:
        return [t for t in self.tenants if t.error is None]

    @property
    def blocked(self) -> bool:
        """Whether any tenant breaks a mandatory policy."""
        return any(t.mandatory for t in self.tenants)

    def totals(self) -> dict[str, Any]:
        mrr = sum((t.mrr for t in self.planned), Decimal(0))
        return {
            "tenants": len(self.planned),
            "agents": sum(t.agents for t in self.planned),
            "resources": sum(len(t.rows()) for t in self.planned),
            "mrr": mrr,
            "arr": mrr * 12,
            "failed": len(self.tenants) - len(self.planned),
            "mandatory_violations": sum(len(t.mandatory) for t in self.tenants),
            "advisory_violations": sum(len(t.advisory) for t in self.tenants),
        }


def plan_tenant(stack: StackFile, project: Project, catalog: Catalog) -> TenantPlan:
    """Validate the stack's config, then run its program under mocks."""
    spec = tenant_from_stack(stack, project, catalog).spec
    planned: PlannedStack = run_stack(stack, project)
    price = plan_price(catalog, spec.tier, len(spec.agents), spec.vertical, spec.support)
    return TenantPlan(
        stack=stack.name,
        resources=planned.resources,
        outputs=planned.outputs,
        tier=spec.tier,
        vertical=spec.vertical,
        agents=len(spec.agents),
        mrr=monthly_recurring(catalog, price, spec.billing),
        error=planned.error,
    )


def policy_pack(project: Project, pack_dir: Path | None = None) -> PolicyPackProcess:
    """The project's policy pack (policies/), not yet started."""
    return PolicyPackProcess(pack_dir or find_policy_pack(project.root))


def short_type(token: str) -> str:
    """`aws:s3/bucket:Bucket` -> `aws:s3:Bucket`."""
    package, _, rest = token.partition(":")
    module, _, name = rest.partition(":")
    return f"{package}:{module.split('/')[0]}:{name}"


def _container(i: dict[str, Any]) -> str:
    caps = ",".join((i.get("capabilities") or {}).get("drops", []))
    ports = ",".join(f"{p.get('ip')}:{int(p.get('internal', 0))}" for p in i.get("ports", []))
    nproc = next((int(u["hard"]) for u in i.get("ulimits", []) if u.get("name") == "nproc"), "-")
    return (
        f"mem {int(i.get('memory', 0))}MB cpus {i.get('cpus')} nproc {nproc} "
        f"caps-drop {caps or '-'} restart {i.get('restart')} port {ports or '-'}"
    )


def _lifecycle(i: dict[str, Any]) -> str:
    rule = (i.get("rules") or [{}])[0]
    return (
        f"expire {int(rule.get('expiration', {}).get('days', 0))}d, noncurrent "
        f"{int(rule.get('noncurrentVersionExpiration', {}).get('noncurrentDays', 0))}d, "
        f"abort uploads "
        f"{int(rule.get('abortIncompleteMultipartUpload', {}).get('daysAfterInitiation', 0))}d"
    )


def _alarm(i: dict[str, Any]) -> str:
    return (
        f"{i.get('metricName')} {i.get('statistic')} < {i.get('threshold')} "
        f"over {int(i.get('period', 0))}s"
    )


PUBLIC_ACCESS_BLOCKS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)


def _sse_algorithm(i: dict[str, Any]) -> str:
    rule = (i.get("rules") or [{}])[0]
    return str((rule.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm"))


SUMMARIES: dict[str, Any] = {
    "docker:index/container:Container": _container,
    "docker:index/volume:Volume": lambda i: f"volume {i.get('name')}",
    "docker:index/network:Network": lambda i: f"{i.get('driver')} internal={i.get('internal')}",
    "docker:index/remoteImage:RemoteImage": lambda i: str(i.get("name")),
    "aws:s3/bucket:Bucket": lambda i: f"{i.get('bucket')} force_destroy={i.get('forceDestroy')}",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _lifecycle,
    "aws:s3/bucketVersioning:BucketVersioning": lambda i: (
        f"versioning {i.get('versioningConfiguration', {}).get('status')}"
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        lambda i: f"sse {_sse_algorithm(i)}"
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": lambda i: (
        f"{sum(bool(i.get(k)) for k in PUBLIC_ACCESS_BLOCKS)} of 4 public-access blocks on"
    ),
    "aws:s3/bucketPolicy:BucketPolicy": lambda i: (
        "deny when aws:SecureTransport=false"
        if "SecureTransport" in str(i.get("policy"))
        else "custom policy"
    ),
    "aws:sns/topic:Topic": lambda i: str(i.get("name")),
    "aws:sns/topicSubscription:TopicSubscription": lambda i: (
        f"{i.get('protocol')} -> {i.get('endpoint')}"
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _alarm,
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": lambda i: (
        f"long AND short window in ALARM -> {len(i.get('alarmActions', []))} action(s)"
    ),
    **ECS_SUMMARIES,
}


def resource_digest(resource: PlannedResource) -> str:
    """A short hash of what would be sent to the provider (secrets masked) and the options."""
    payload = json.dumps(
        [
            mask_secrets(resource.inputs),
            resource.protect,
            resource.retain_on_delete,
            resource.parent,
        ],
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def key_settings(resource: PlannedResource) -> str:
    """A one-line summary of the settings that matter for a resource type."""
    summary = SUMMARIES.get(resource.type)
    inputs = resource.inputs
    if resource.type == "docker:index/container:Container":
        inputs = {k: v for k, v in inputs.items() if k != "envs"}  # secret: never unwrapped
    text = summary(unwrap_secrets(inputs)) if summary else ""
    flags = [
        flag
        for flag, on in (("protect", resource.protect), ("retain", resource.retain_on_delete))
        if on
    ]
    return f"{text} [{' '.join(flags)}]" if flags else text
