"""TenantSpec: one customer's desired state, built from its stack config.

The stack file `stacks/Pulumi.<tenant id>.yaml` holds the object under the
config key `afrex:tenant`; the tenant id is the stack name. Validation is
against the catalog, and every problem is reported as `afrex:tenant.<field>:
<what is wrong and the fix>`.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from afrex.catalog import AGENT_NAME_PATTERN, Catalog, load_catalog
from afrex.errors import ConfigError, validation_problems

TENANT_KEY = "afrex:tenant"
TOKEN_KEY = "afrex:gatewayToken"
PLATFORM_STACK_KEY = "afrex:platformStack"
# Every pattern is matched with `fullmatch`: `$` alone would let a final newline through.
TENANT_ID_PATTERN = re.compile(r"cust-(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)-(?P<ts>[0-9]{9,11})")
EMAIL_PATTERN = re.compile(
    r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}"
)
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# A change may be dated at most this far past the clock (skew between operators'
# machines); changes are never scheduled ahead, so plan, revenue and invoices agree.
CLOCK_SKEW = timedelta(minutes=5)
BillingCycle = Literal["monthly", "annual"]
# Where a tenant's agents run: containers on its Docker host, or Fargate tasks on the
# shared ECS platform (platform/). Docker is the default: stacks that never say stay as
# they were, and serialize as they did (see `TenantSpec._omit_default_runtime`).
Runtime = Literal["docker", "ecs"]
RUNTIMES: tuple[Runtime, ...] = ("docker", "ecs")
DEFAULT_RUNTIME: Runtime = "docker"
# A fully qualified stack reference, `<organization>/<project>/<stack>` (a bare stack
# name would name a stack of the tenant's own project, never the platform's).
PLATFORM_STACK_PATTERN = re.compile(
    r"(?P<org>[A-Za-z0-9][A-Za-z0-9_.-]{0,99})/(?P<project>[A-Za-z0-9][A-Za-z0-9_.-]{0,99})"
    r"/(?P<stack>[A-Za-z0-9][A-Za-z0-9_.-]{0,99})"
)


def slugify(company: str) -> str:
    """The seed's slug: lower case ASCII (accents dropped), other runs become one dash."""
    ascii_name = unicodedata.normalize("NFKD", company).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def slug_limit(catalog: Catalog) -> int:
    """Longest slug whose bucket name `<prefix>-cust-<slug>-<10 digits>` fits in 63."""
    return 63 - len(f"{catalog.backups.bucket_prefix}-cust--") - 10


def tenant_slug(company: str, catalog: Catalog) -> str:
    """The slug a company's tenant id carries: `slugify`, cut to fit a bucket name."""
    return slugify(company)[: slug_limit(catalog)].strip("-")


def check_text(value: str, what: str) -> str:
    """`value` if it holds no control characters (newlines, escapes), else a ValueError."""
    bad = CONTROL_CHARACTERS.search(value)
    if bad:
        raise ValueError(
            f"{what} contains the control character {bad.group()!r}; use plain text on one line"
        )
    return value


def _now(info: ValidationInfo) -> datetime:
    context = info.context or {}
    now = context.get("now")
    return now if isinstance(now, datetime) else datetime.now(UTC)


def _catalog(info: ValidationInfo) -> Catalog:
    context = info.context or {}
    catalog = context.get("catalog")
    return catalog if isinstance(catalog, Catalog) else load_catalog()


CATALOG_CHOICES = {"tier": "tiers", "vertical": "verticals", "support": "support"}


def _catalog_choice(catalog: Catalog, field: str, value: str) -> str:
    """`value` if the catalog section for `field` lists it, else a ValueError naming them."""
    choices = getattr(catalog, CATALOG_CHOICES[field])
    if value not in choices:
        kind = "support level" if field == "support" else field
        raise ValueError(f"unknown {kind} '{value}'; use one of {', '.join(choices)}")
    return value


class PlanChange(BaseModel):
    """A dated change of plan; billing prorates from these by UTC day."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    effective: datetime = Field(description="When the change took effect (UTC).")
    tier: str = Field(description="Tier from this moment on.")
    agents: int = Field(ge=1, description="Number of agents from this moment on.")
    support: str = Field(default="standard", description="Support level from this moment on.")

    @field_validator("effective")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _known(self, info: ValidationInfo) -> PlanChange:
        catalog = _catalog(info)
        _catalog_choice(catalog, "tier", self.tier)
        _catalog_choice(catalog, "support", self.support)
        limit = catalog.tiers[self.tier].max_agents
        if self.agents > limit:
            raise ValueError(f"{self.agents} agents exceed the {self.tier} tier limit of {limit}")
        return self


class TenantSpec(BaseModel):
    """A customer's desired state: who they are, what they bought, which agents run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str = Field(description="cust-<slug>-<unix seconds>; also the stack name.")
    company: str = Field(min_length=1, max_length=120, description="Customer's legal name.")
    contact: str = Field(description="Customer contact email.")
    tier: str = Field(description="Tier name from the catalog.")
    vertical: str = Field(default="general", description="Vertical name from the catalog.")
    support: str = Field(default="standard", description="Support level from the catalog.")
    billing: BillingCycle = Field(default="monthly", description="monthly or annual billing.")
    runtime: Runtime = Field(
        default=DEFAULT_RUNTIME, description="docker (its Docker host) or ecs (Fargate + EFS)."
    )
    agents: list[str] = Field(default_factory=list, description="Agent names; default roster.")
    history: list[PlanChange] = Field(
        default_factory=list, description="Dated plan changes, oldest first."
    )

    @field_validator("tenant_id")
    @classmethod
    def _tenant_id(cls, value: str, info: ValidationInfo) -> str:
        if not TENANT_ID_PATTERN.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a tenant id; stack names look like cust-<slug>-<unix seconds>"
            )
        bucket = f"{_catalog(info).backups.bucket_prefix}-{value}"
        if len(bucket) > 63:
            raise ValueError(f"'{value}' is too long for a bucket name; shorten the slug")
        return value

    @field_validator("contact")
    @classmethod
    def _email(cls, value: str) -> str:
        if not EMAIL_PATTERN.fullmatch(value):
            raise ValueError(f"{value!r} is not an email address; use name@domain.tld")
        return value.lower()

    @field_validator("company")
    @classmethod
    def _company(cls, value: str) -> str:
        check_text(value, "the company name")
        if value != value.strip():
            raise ValueError(f"{value!r} has spaces at its ends; remove them")
        if not slugify(value):
            raise ValueError(f"{value!r} has no letters or digits to make a tenant id from")
        return value

    @field_validator("runtime", mode="before")
    @classmethod
    def _runtime(cls, value: Any) -> Any:
        if value not in RUNTIMES:
            raise ValueError(f"unknown runtime {value!r}; use one of {', '.join(RUNTIMES)}")
        return value

    @model_serializer(mode="wrap")
    def _omit_default_runtime(self, handler: SerializerFunctionWrapHandler) -> Any:
        """A Docker tenant serializes exactly as before runtimes existed, so the
        `configDigest` of every deployed stack (and new stack files) stay the same."""
        data = handler(self)
        if isinstance(data, dict) and self.runtime == DEFAULT_RUNTIME:
            data.pop("runtime", None)
        return data

    @field_validator("tier", "vertical", "support")
    @classmethod
    def _in_catalog(cls, value: str, info: ValidationInfo) -> str:
        assert info.field_name is not None
        return _catalog_choice(_catalog(info), info.field_name, value)

    @field_validator("agents")
    @classmethod
    def _agent_names(cls, value: list[str]) -> list[str]:
        bad = [name for name in value if not re.fullmatch(AGENT_NAME_PATTERN, name)]
        if bad:
            raise ValueError(
                f"invalid agent name(s) {', '.join(repr(n) for n in bad)}; use 3-40 lower-case "
                "letters, digits and dashes"
            )
        duplicates = sorted({name for name in value if value.count(name) > 1})
        if duplicates:
            raise ValueError(
                f"duplicate agent name(s) {', '.join(duplicates)}; names must be unique"
            )
        return value

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict):
            return data
        catalog = _catalog(info)
        tier, vertical = data.get("tier"), data.get("vertical", "general")
        if not data.get("agents") and tier in catalog.tiers and vertical in catalog.verticals:
            count = catalog.tiers[tier].agents_included
            data = {**data, "agents": catalog.default_agents(vertical, count)}
        return data

    @model_validator(mode="after")
    def _id_agrees(self, info: ValidationInfo) -> TenantSpec:
        match = TENANT_ID_PATTERN.fullmatch(self.tenant_id)
        assert match is not None  # checked by the field validator
        expected = tenant_slug(self.company, _catalog(info))
        if match["slug"] != expected:
            raise ValueError(
                f"tenant_id: stack name {self.tenant_id} does not match the company "
                f"{self.company!r}, whose tenant ids are cust-{expected}-<unix seconds>; "
                "rename the stack file or correct the company"
            )
        latest = _now(info) + CLOCK_SKEW
        if self.provisioned_at > latest:
            raise ValueError(
                f"tenant_id: {self.tenant_id} was made at {_iso(self.provisioned_at)}, "
                "in the future; tenant ids carry the unix seconds of their creation"
            )
        return self

    @model_validator(mode="after")
    def _plan_consistent(self, info: ValidationInfo) -> TenantSpec:
        limit = _catalog(info).tiers[self.tier].max_agents
        if len(self.agents) > limit:
            raise ValueError(
                f"agents: {len(self.agents)} agents exceed the {self.tier} tier limit of {limit}; "
                "remove agents or move to a larger tier"
            )
        if not self.agents:
            raise ValueError("agents: a tenant needs at least one agent")
        current = PlanChange.model_validate(
            {
                "effective": self.provisioned_at,
                "tier": self.tier,
                "agents": len(self.agents),
                "support": self.support,
            },
            context=info.context,
        )
        if not self.history:
            object.__setattr__(self, "history", [current])
            return self
        times = [change.effective for change in self.history]
        if times != sorted(times) or len(set(times)) != len(times):
            raise ValueError("history: entries must be in strictly increasing effective order")
        if times[0] < self.provisioned_at:
            raise ValueError(
                f"history: the first change ({_iso(times[0])}) is before the tenant was made "
                f"({_iso(self.provisioned_at)}, the time in its id); date it at or after that"
            )
        latest = _now(info) + CLOCK_SKEW
        if times[-1] > latest:
            raise ValueError(
                f"history: a change dated {_iso(times[-1])} is in the future; changes are "
                "recorded when they take effect, not scheduled ahead"
            )
        last = self.history[-1]
        if (last.tier, last.agents, last.support) != (
            current.tier,
            current.agents,
            current.support,
        ):
            raise ValueError(
                "history: the last entry must match the current tier, agent count and support "
                f"({current.tier}, {current.agents}, {current.support}); append a change instead"
            )
        return self

    @property
    def provisioned_at(self) -> datetime:
        """When the tenant was created: the unix seconds in its id."""
        match = TENANT_ID_PATTERN.fullmatch(self.tenant_id)
        assert match is not None  # checked by the field validator
        return datetime.fromtimestamp(int(match["ts"]), tz=UTC)

    def bucket_name(self, catalog: Catalog) -> str:
        return f"{catalog.backups.bucket_prefix}-{self.tenant_id}"


def platform_stack_problem(runtime: str, value: Any) -> str | None:
    """Why `afrex:platformStack` does not fit the tenant's runtime, or None.

    ECS tenants need it (the platform stack their tasks join); Docker tenants ignore it."""
    if runtime != "ecs":
        return None
    fix = (
        f"set {PLATFORM_STACK_KEY} to the platform stack, e.g. organization/afrex-platform/prod "
        "(platform/README.md)"
    )
    if value is None or value == "":
        return f"{PLATFORM_STACK_KEY}: missing; an ecs tenant runs on a platform stack, {fix}"
    if not isinstance(value, str) or not PLATFORM_STACK_PATTERN.fullmatch(value):
        return f"{PLATFORM_STACK_KEY}: {value!r} is not <organization>/<project>/<stack>; {fix}"
    return None


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def parse_tenant(
    tenant_id: str,
    config: dict[str, Any],
    catalog: Catalog | None = None,
    source: str = "",
    now: datetime | None = None,
) -> TenantSpec:
    """Validate a stack's `afrex:tenant` config object; raise ConfigError with one line each.

    `now` bounds the dates (default: the clock); tests pass a fixed one."""
    catalog = catalog or load_catalog()
    raw = config.get(TENANT_KEY)
    where = source or f"stack {tenant_id}"
    if not isinstance(raw, dict):
        raise ConfigError(
            where, [f"{TENANT_KEY}: missing or not an object; set company, contact, tier, vertical"]
        )
    try:
        return TenantSpec.model_validate(
            {**raw, "tenant_id": tenant_id}, context={"catalog": catalog, "now": now}
        )
    except ValidationError as error:
        problems = [
            p.replace(f"{TENANT_KEY}.tenant_id", "stack name")
            for p in validation_problems(error, prefix=TENANT_KEY)
        ]
        raise ConfigError(where, problems) from None
