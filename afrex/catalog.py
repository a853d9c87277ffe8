"""The catalog: pydantic models for `catalog.yaml`, and the loader.

Nothing about tiers, prices, SLA targets, resource sizes or agent rosters is
written anywhere else: the component, the policy pack and the CLI all read the
numbers from here.
"""

from __future__ import annotations

import hashlib
import os
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from afrex.errors import ConfigError, validation_problems
from afrex.yamlsafe import parse_yaml, read_regular_file

DEFAULT_CATALOG = Path(__file__).with_name("catalog.yaml")
AGENT_NAME_PATTERN = r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$"
METRIC_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]{0,254}$"

# Bounds keep every sum and product of prices well inside Decimal's 28 digits.
MAX_MONEY = Decimal("1000000000")
Percent = Annotated[Decimal, Field(ge=0, le=100, allow_inf_nan=False)]
Money = Annotated[Decimal, Field(ge=0, le=MAX_MONEY, decimal_places=2, allow_inf_nan=False)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContainerSize(_Model):
    """Resource limits of one agent container of a tier."""

    memory_mb: int = Field(
        ge=256, le=1048576, description="Hard memory cap in MB (no swap beyond it)."
    )
    cpus: Decimal = Field(gt=0, le=16, description="CPU quota, in cores.")
    pids_limit: int = Field(
        ge=32, le=4194304, description="Most processes an agent container may run."
    )
    nofile_limit: int = Field(
        ge=256, le=1048576, description="Most files and sockets an agent may hold open."
    )


class Tier(_Model):
    """A plan customers buy: price, agent allowance, SLA and container size."""

    agents_included: int = Field(ge=1, le=1000, description="Agents the monthly price includes.")
    max_agents: int = Field(ge=1, le=1000, description="Tier limit enforced by scaling and policy.")
    monthly_price: Money = Field(description="Price per month for the included agents.")
    overage_per_agent: Money | None = Field(
        default=None, description="Monthly price of each agent above the included ones."
    )
    sla_uptime_pct: Decimal = Field(
        gt=0, lt=100, max_digits=12, description="Monthly uptime target, %."
    )
    container: ContainerSize = Field(description="Per-agent container limits.")

    @model_validator(mode="after")
    def _limits_consistent(self) -> Tier:
        if self.max_agents < self.agents_included:
            raise ValueError("max_agents must be at least agents_included")
        if self.max_agents > self.agents_included and self.overage_per_agent is None:
            raise ValueError("a tier allowing more agents than included needs overage_per_agent")
        return self

    @property
    def error_budget(self) -> Decimal:
        """Allowed unavailability as a fraction (0.001 for 99.9%)."""
        return (100 - self.sla_uptime_pct) / 100


class Vertical(_Model):
    """An industry the platform sells into: its premium and default agent roster."""

    premium_pct: Percent = Field(description="Premium on base + overage, in %.")
    agents: list[Annotated[str, Field(pattern=AGENT_NAME_PATTERN)]] = Field(
        min_length=1, description="Default agents, in order; a tier takes the first N."
    )


class BillingTerms(_Model):
    annual_discount_pct: Percent = Field(description="Discount on the monthly subtotal, %.")
    extra_task_price: Money = Field(description="Price of each extra task in a quote.")


class CreditStep(_Model):
    below_uptime_pct: Decimal = Field(gt=0, lt=100, max_digits=12)
    credit_pct: Percent


class SlaCredits(_Model):
    below_target_pct: Percent = Field(description="Credit when uptime is below the tier target.")
    steps: list[CreditStep] = Field(description="Deeper credits for lower uptime.")


class PortalValue(_Model):
    human_time_multiplier: Decimal = Field(gt=0, le=1000)
    hourly_rate: Money


class BurnWindow(_Model):
    """One multi-window burn-rate alert: both windows must burn too fast."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]+$")
    long_seconds: int = Field(ge=300, le=86400)
    short_seconds: int = Field(ge=60, le=86400)
    burn_rate: Decimal = Field(gt=0, le=10000)

    @model_validator(mode="after")
    def _short_below_long(self) -> BurnWindow:
        if self.short_seconds >= self.long_seconds:
            raise ValueError("short_seconds must be below long_seconds")
        return self


class SlaAlerting(_Model):
    namespace: str
    metric: str
    treat_missing_data: str = Field(pattern=r"^(missing|ignore|breaching|notBreaching)$")
    windows: list[BurnWindow] = Field(min_length=1)


class Telemetry(_Model):
    """The rest of the telemetry contract (`sla_alerting` names the namespace and `Up`):
    dimension and metric names, how agents are probed, and how telemetry is read back."""

    tenant_dimension: str = Field(pattern=METRIC_NAME_PATTERN, description="Tenant dimension.")
    agent_dimension: str = Field(pattern=METRIC_NAME_PATTERN, description="Agent dimension.")
    response_time_metric: str = Field(pattern=METRIC_NAME_PATTERN)
    tasks_completed_metric: str = Field(pattern=METRIC_NAME_PATTERN)
    task_minutes_metric: str = Field(pattern=METRIC_NAME_PATTERN)
    probe_timeout_seconds: Decimal = Field(
        gt=0, le=60, description="How long a gateway's health path may take to answer."
    )
    probe_concurrency: int = Field(ge=1, le=4096, description="Health probes in flight at once.")
    engine_timeout_seconds: Decimal = Field(
        gt=0, le=120, description="How long a Docker engine may take to list its containers."
    )
    realert_seconds: int = Field(
        ge=60, le=604800, description="`sla watch`: repeat a down agent's alert this often."
    )
    breach_period_seconds: int = Field(
        ge=60, le=86400, description="Bucket of `Up` datapoints that `sla breaches` judges."
    )
    chart_period_seconds: int = Field(
        ge=3600, le=86400, description="Bucket of the portal's uptime chart."
    )

    @model_validator(mode="after")
    def _whole_minutes(self) -> Telemetry:
        for name in ("breach_period_seconds", "chart_period_seconds"):
            if getattr(self, name) % 60:
                raise ValueError(f"{name}: must be whole minutes (CloudWatch periods)")
        return self


class AgentImage(_Model):
    repository: str
    tag: str = Field(pattern=r"^[A-Za-z0-9_.@:-]+$", description="A pinned tag, never latest.")

    @model_validator(mode="after")
    def _pinned(self) -> AgentImage:
        if self.tag == "latest":
            raise ValueError("tag must be pinned to a release, not 'latest'")
        return self

    @property
    def reference(self) -> str:
        separator = "@" if self.tag.startswith("sha256:") else ":"
        return f"{self.repository}{separator}{self.tag}"


class Gateway(_Model):
    port: int = Field(ge=1, le=65535)
    state_path: str
    health_path: str
    heap_share_pct: int = Field(ge=25, le=90)
    log_max_size: str
    log_max_files: int = Field(ge=1, le=100)


class Backups(_Model):
    retention_days: int = Field(ge=1, le=36500)
    noncurrent_retention_days: int = Field(ge=1, le=36500)
    abort_multipart_days: int = Field(ge=1, le=36500)
    bucket_prefix: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{2,20}$")


# Fargate's valid task sizes (AWS ECS developer guide, "Task CPU and memory"): CPU units
# -> the task memory sizes (MB) allowed with them. A task of another shape is refused.
FARGATE_TASK_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}
# Retention values CloudWatch Logs accepts (PutRetentionPolicy).
LOG_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192}
    | {2557, 2922, 3288, 3653}
)
MAX_POSIX_ID = 2**32 - 2


def fargate_memory_choices(cpu_units: int) -> list[int]:
    """The task memory sizes (MB) Fargate allows with `cpu_units` (empty if none)."""
    return list(FARGATE_TASK_SIZES.get(cpu_units, ()))


class FargateSize(_Model):
    """One agent's Fargate task: a valid CPU/memory combination."""

    cpu_units: int = Field(description="Task CPU in units (1024 = 1 vCPU).")
    memory_mb: int = Field(description="Task memory in MB.")

    @model_validator(mode="after")
    def _valid_combination(self) -> FargateSize:
        if self.cpu_units not in FARGATE_TASK_SIZES:
            raise ValueError(
                f"cpu_units {self.cpu_units} is not a Fargate size; use one of "
                f"{', '.join(map(str, FARGATE_TASK_SIZES))}"
            )
        choices = fargate_memory_choices(self.cpu_units)
        if self.memory_mb not in choices:
            raise ValueError(
                f"memory_mb {self.memory_mb} is not valid with cpu_units {self.cpu_units}; "
                f"Fargate allows {', '.join(map(str, choices))} MB"
            )
        return self

    @property
    def vcpu(self) -> Decimal:
        return Decimal(self.cpu_units) / 1024

    @property
    def memory_gb(self) -> Decimal:
        return Decimal(self.memory_mb) / 1024


class FargatePrices(_Model):
    """Fargate on-demand list prices, and where and when they were taken."""

    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$", description="Region priced.")
    as_of: date = Field(description="When the prices were read from the source.")
    source: str = Field(pattern=r"^https://", description="Where the prices were read.")
    vcpu_hour: Decimal = Field(gt=0, le=10, allow_inf_nan=False, description="$ per vCPU-hour.")
    gb_hour: Decimal = Field(gt=0, le=10, allow_inf_nan=False, description="$ per GB-hour.")
    hours_per_month: int = Field(ge=672, le=744, description="Hours billed in a month (730).")

    def monthly(self, size: FargateSize) -> Decimal:
        """List price of one task of `size` running the whole month (unrounded)."""
        hourly = size.vcpu * self.vcpu_hour + size.memory_gb * self.gb_hour
        return hourly * self.hours_per_month


class Fargate(_Model):
    """How agents run on AWS ECS Fargate (`afrex:tenant.runtime: ecs`) with EFS state."""

    sizes: dict[str, FargateSize] = Field(description="Task size per tier.")
    prices: FargatePrices
    platform_version: str = Field(pattern=r"^(LATEST|1\.[4-9]\.[0-9]+)$")
    cpu_architecture: str = Field(pattern=r"^(X86_64|ARM64)$")
    container_user: str = Field(
        pattern=r"^[1-9][0-9]{0,9}:[0-9]{1,10}$",
        description="uid:gid the gateway runs as (never root).",
    )
    scratch_path: str = Field(pattern=r"^/[a-z0-9/._-]+$", description="Writable scratch.")
    log_retention_days: int = Field(description="Retention of each tenant's log group.")
    log_group_prefix: str = Field(pattern=r"^/[A-Za-z0-9_/.-]+[A-Za-z0-9_.-]$")
    posix_id_base: int = Field(ge=1000, description="Lowest uid/gid of an access point.")
    posix_id_span: int = Field(ge=1000, description="How many uids agents are spread over.")
    state_permissions: str = Field(pattern=r"^0[0-7]{3}$")
    ops_image: AgentImage = Field(
        description="Image of one-off tasks beside an agent's state (backups, restores)."
    )

    @model_validator(mode="after")
    def _bounds(self) -> Fargate:
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            raise ValueError(
                f"log_retention_days {self.log_retention_days} is not a CloudWatch retention; "
                f"use one of {', '.join(map(str, sorted(LOG_RETENTION_DAYS)))}"
            )
        if self.posix_id_base + self.posix_id_span > MAX_POSIX_ID:
            raise ValueError(f"posix_id_base + posix_id_span must stay below {MAX_POSIX_ID}")
        return self


class Capacity(_Model):
    """When `afrex capacity` calls a Docker host full."""

    host_limit_pct: Percent = Field(description="Committed share of a host that is flagged.")


class Catalog(_Model):
    """The whole price book and platform catalog."""

    arr_goal: Money
    tiers: dict[str, Tier] = Field(min_length=1)
    verticals: dict[str, Vertical] = Field(min_length=1)
    support: dict[str, Money] = Field(min_length=1)
    billing: BillingTerms
    sla_credits: SlaCredits
    portal_value: PortalValue
    sla_alerting: SlaAlerting
    telemetry: Telemetry
    agent_image: AgentImage
    gateway: Gateway
    backups: Backups
    fargate: Fargate
    capacity: Capacity
    digest: str = Field(default="", description="sha256 of the catalog file (set by the loader).")

    @model_validator(mode="after")
    def _fargate_sizes_cover_tiers(self) -> Catalog:
        sizes = self.fargate.sizes
        problems = [f"{name}: no Fargate size" for name in self.tiers if name not in sizes]
        problems += [f"{name}: not a tier" for name in sizes if name not in self.tiers]
        for name, size in sizes.items():
            docker = self.tiers[name].container if name in self.tiers else None
            if docker and (size.memory_mb < docker.memory_mb or size.vcpu < docker.cpus):
                problems.append(
                    f"{name}: {size.vcpu} vCPU / {size.memory_mb} MB is smaller than the tier's "
                    f"container ({docker.cpus} CPUs / {docker.memory_mb} MB)"
                )
        if problems:
            raise ValueError(f"fargate.sizes: {'; '.join(problems)}")
        return self

    def tier(self, name: str) -> Tier:
        return self.tiers[name]

    def tiers_by_size(self) -> list[tuple[str, Tier]]:
        """Tiers from the smallest limit up (ties broken by price)."""
        return sorted(self.tiers.items(), key=lambda kv: (kv[1].max_agents, kv[1].monthly_price))

    def smallest_tier_for(self, agents: int) -> str | None:
        """The smallest tier whose limit holds `agents`, or None if none does."""
        for name, tier in self.tiers_by_size():
            if agents <= tier.max_agents:
                return name
        return None

    def default_agents(self, vertical: str, count: int) -> list[str]:
        """The first `count` agents of a vertical's roster, numbered past its end."""
        roster = self.verticals[vertical].agents
        names = list(roster[:count])
        extra = 2
        while len(names) < count:
            names.extend(f"{name}-{extra}" for name in roster[: count - len(names)])
            extra += 1
        return names

    def burn_threshold(self, tier: str, window: BurnWindow) -> Decimal:
        """Lowest acceptable mean of `Up` over a window: `1 - burn_rate * (1 - target)`."""
        threshold = 1 - window.burn_rate * self.tiers[tier].error_budget
        if threshold <= 0:
            raise ConfigError(
                "catalog",
                [
                    f"sla_alerting.windows.{window.name}: burn rate {window.burn_rate} leaves no "
                    f"threshold for the {tier} tier; lower the burn rate"
                ],
            )
        return threshold

    def credit_pct(self, uptime_pct: Decimal, target_pct: Decimal) -> Decimal:
        """The SLA credit (in %) for a month's measured uptime against its target."""
        if uptime_pct >= target_pct:
            return Decimal(0)
        credit = self.sla_credits.below_target_pct
        for step in self.sla_credits.steps:
            if uptime_pct < step.below_uptime_pct:
                credit = max(credit, step.credit_pct)
        return credit


def catalog_path() -> Path:
    """The catalog in use: `AFREX_CATALOG` if set, else the packaged one."""
    override = os.environ.get("AFREX_CATALOG")
    return Path(override) if override else DEFAULT_CATALOG


@lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int, size: int) -> Catalog:
    raw = read_regular_file(path)
    data = parse_yaml(raw, str(path))
    if not isinstance(data, dict):
        raise ConfigError(str(path), ["the catalog must be a mapping of sections"])
    data["digest"] = hashlib.sha256(raw).hexdigest()
    try:
        return Catalog.model_validate(data)
    except ValidationError as error:
        raise ConfigError(str(path), validation_problems(error)) from None


def load_catalog(path: Path | None = None) -> Catalog:
    """Load and validate the catalog (cached until the file changes)."""
    target = (path or catalog_path()).resolve()
    try:
        info = target.stat()
    except OSError:
        raise ConfigError(
            str(target), ["file not found; set AFREX_CATALOG to the catalog file or restore it"]
        ) from None
    return _load(target, info.st_mtime_ns, info.st_size)
