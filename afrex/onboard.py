"""Onboarding a customer: from the operator's answers to a reviewed stack file.

`onboard` validates everything first, through the same rules as every stack
file (`TenantSpec`, one line per problem, named by the option that caused it),
then makes the tenant id (`cust-<slug of the company>-<unix seconds>`), takes
the vertical's roster for the tier, and renders `stacks/Pulumi.<id>.yaml` with
a fresh gateway token encrypted by the stacks' passphrase
(`PULUMI_CONFIG_PASSPHRASE`). The text goes back through the one door
(`afrex.tenants`) before it is written, and it is written atomically and only
if no file of that name exists. A tenant on ECS (`--runtime ecs`) names its
platform stack (`afrex:platformStack`) instead of a Docker host, and its local
profile points the ECS, EFS, EC2, IAM, Logs and Secrets Manager endpoints at moto
too. Then the welcome email goes to the outbox (and
through SES when asked) and the onboarding is recorded in the event log.

A dry run returns the stack file's text (secrets are ciphertext), the offline
plan of the tenant and its quote, and writes nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from afrex.atomicfiles import stage_file
from afrex.billing.quote import Quote, price_quote
from afrex.catalog import Catalog, load_catalog
from afrex.errors import BadInput, ConfigError, OperationFailed
from afrex.events import Event, open_event_log
from afrex.passphrase import PASSPHRASE_ENV
from afrex.spec import (
    DEFAULT_RUNTIME,
    PLATFORM_STACK_KEY,
    RUNTIMES,
    TENANT_KEY,
    TenantSpec,
    parse_tenant,
    platform_stack_problem,
    tenant_slug,
)
from afrex.stackedit import stack_from_text
from afrex.stackfiles import Project, find_project
from afrex.stackwriter import LOCAL_AWS_ENDPOINT, LOCAL_DOCKER_HOST, local_profile
from afrex.tenants import DOCKER_HOST_KEY, check_docker_host, tenant_from_stack

if TYPE_CHECKING:
    from email.message import EmailMessage

PROFILES = ("local", "aws")
LOCAL_PLATFORM_STACK = "organization/afrex-platform/local"  # platform/stacks/Pulumi.local.yaml
# What an ECS tenant's program calls beside the Docker tenant's services (pulumi-aws
# endpoint keys), all answered by moto in the local profile.
LOCAL_ECS_SERVICES = ("cloudwatchlogs", "ec2", "ecs", "efs", "secretsmanager")
LOCAL_SECRET_KEY = "afrex-local"  # moto's dummy secret key, stored encrypted like a real one
HEADER = (
    "# Tenant stack made by `afrex tenant new` ({profile} profile). The afrex:tenant block is\n"
    "# the customer's contract: review it in git; `afrex scale` appends dated changes.\n"
)
OPTION_OF = {
    f"{TENANT_KEY}.company": "--name",
    f"{TENANT_KEY}.contact": "--email",
    f"{TENANT_KEY}.tier": "--tier",
    f"{TENANT_KEY}.vertical": "--vertical",
    f"{TENANT_KEY}.support": "--support",
    f"{TENANT_KEY}.billing": "--billing",
    f"{TENANT_KEY}.agents": "--agents",
    f"{TENANT_KEY}.tenant_id": "--name",
    "stack name": "--name",
    "tenant_id": "--name",
    "agents": "--agents",
}


@dataclass(frozen=True)
class NewTenant:
    """The operator's answers, as given on the command line."""

    company: str
    contact: str
    tier: str
    vertical: str = "general"
    support: str = "standard"
    billing: str = "monthly"
    agents: int | None = None
    docker_host: str | None = None
    profile: str = "local"
    runtime: str = DEFAULT_RUNTIME
    platform_stack: str | None = None

    @property
    def on_ecs(self) -> bool:
        return self.runtime == "ecs"

    @property
    def platform(self) -> str | None:
        """The platform stack an ECS tenant joins (the local one by default locally)."""
        if not self.on_ecs:
            return None
        return self.platform_stack or (LOCAL_PLATFORM_STACK if self.profile == "local" else None)


@dataclass
class Onboarding:
    """A new tenant: its contract, stack file, quote, and what was written or sent."""

    spec: TenantSpec
    path: Path
    stack_text: str
    quote: Quote
    dry_run: bool
    plan_rows: list[dict[str, str]] = field(default_factory=list)
    plan_error: str | None = None
    welcome: Path | None = None
    sent: str | None = None  # SES message id

    platform_stack: str | None = None

    @property
    def next_steps(self) -> list[str]:
        tenant = self.spec.tenant_id
        if self.dry_run:
            return ["run the same command without --dry-run to write the stack file"]
        platform = (
            [f"the platform stack {self.platform_stack} must be up first (platform/README.md)"]
            if self.platform_stack
            else []
        )
        return [
            f"review and commit {self.path.name}",
            *platform,
            f"pulumi stack init {tenant} --secrets-provider passphrase (once)",
            f"pulumi up -s {tenant}, or: afrex up --stack {tenant}",
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.spec.tenant_id,
            "dryRun": self.dry_run,
            "runtime": self.spec.runtime,
            "platformStack": self.platform_stack,
            "contract": self.spec.model_dump(mode="json"),
            "stackFile": str(self.path),
            "stackFileText": self.stack_text if self.dry_run else None,
            "quote": self.quote.as_dict(),
            "plan": {"resources": self.plan_rows, "error": self.plan_error}
            if self.dry_run
            else None,
            "welcomeEmail": str(self.welcome) if self.welcome else None,
            "welcomeSent": self.sent,
            "nextSteps": self.next_steps,
        }


def check_request(request: NewTenant) -> None:
    """The options the contract itself does not cover."""
    if request.agents is not None and request.agents < 1:
        raise BadInput(f"--agents {request.agents} is not a number of agents", "use 1 or more")
    if request.profile not in PROFILES:
        raise BadInput(
            f"unknown profile '{request.profile}'", f"use --profile {' | '.join(PROFILES)}"
        )
    if request.runtime not in RUNTIMES:
        raise BadInput(
            f"unknown runtime '{request.runtime}'", f"use --runtime {' | '.join(RUNTIMES)}"
        )
    if request.on_ecs:
        check_platform(request)
    elif request.platform_stack is not None:
        raise BadInput("--platform-stack is for --runtime ecs", "leave it out for a docker tenant")
    if request.docker_host is not None:
        try:
            check_docker_host(request.docker_host)
        except ValueError as error:
            raise BadInput(f"--docker-host: {error}".replace(f"{DOCKER_HOST_KEY}: ", "")) from None
    elif request.profile == "aws" and not request.on_ecs:
        raise BadInput(
            "--profile aws needs --docker-host (the engine that runs this tenant)",
            "e.g. --docker-host ssh://agents-07, or --runtime ecs",
        )


def check_platform(request: NewTenant) -> None:
    """An ECS tenant: a platform stack (given, or the local one), and no Docker host."""
    if request.docker_host is not None:
        raise BadInput(
            "--docker-host is for docker tenants: an ecs tenant's agents run on its platform",
            "leave out --docker-host, or use --runtime docker",
        )
    if request.platform is None:
        raise BadInput(
            "--runtime ecs with --profile aws needs --platform-stack",
            "e.g. --platform-stack organization/afrex-platform/prod",
        )
    problem = platform_stack_problem("ecs", request.platform)
    if problem:
        raise BadInput(problem.replace(f"{PLATFORM_STACK_KEY}: ", "--platform-stack: ", 1))


def contract(request: NewTenant, catalog: Catalog, now: datetime) -> TenantSpec:
    """The tenant's validated contract, its id made from the company and `now`."""
    created = now.astimezone(UTC).replace(microsecond=0)
    slug = tenant_slug(request.company, catalog) or "x"  # the company check names the problem
    tenant_id = f"cust-{slug}-{int(created.timestamp())}"
    data: dict[str, Any] = {
        "company": request.company,
        "contact": request.contact,
        "tier": request.tier,
        "vertical": request.vertical,
        "support": request.support,
        "billing": request.billing,
    }
    if request.on_ecs:
        data["runtime"] = request.runtime
    tier = catalog.tiers.get(request.tier)
    if tier is not None and request.vertical in catalog.verticals:
        count = request.agents or tier.agents_included
        data["agents"] = catalog.default_agents(request.vertical, count)
    try:
        return parse_tenant(tenant_id, {TENANT_KEY: data}, catalog, source="tenant new", now=now)
    except ConfigError as error:
        raise ConfigError("tenant new", [_by_option(p) for p in error.problems]) from None


def _by_option(problem: str) -> str:
    key, _, message = problem.partition(": ")
    option = OPTION_OF.get(key)
    return f"{option}: {message}" if option else problem


def stack_document(spec: TenantSpec) -> dict[str, Any]:
    """The `afrex:tenant` object as written: the contract and its first dated plan."""
    data: dict[str, Any] = spec.model_dump(mode="json", exclude={"tenant_id"})
    return data


def passphrase() -> str:
    value = os.environ.get(PASSPHRASE_ENV)
    if not value:
        raise BadInput(
            f"{PASSPHRASE_ENV} is not set: the new stack file's secrets are encrypted with it",
            f"export {PASSPHRASE_ENV}=<the stacks' passphrase> and run the command again",
        )
    return value


def render(request: NewTenant, spec: TenantSpec) -> str:
    """The new stack file's text (a fresh salt and gateway token, both encrypted)."""
    from afrex.stackwriter import render_stack_file

    if request.profile == "local":
        provider = local_profile(LOCAL_AWS_ENDPOINT, request.docker_host or LOCAL_DOCKER_HOST)
        secrets = {"aws:secretKey": LOCAL_SECRET_KEY}
    else:
        from afrex.clients import region

        provider, secrets = {"aws:region": region()}, {}
        if not request.on_ecs:
            assert request.docker_host is not None  # checked: the aws profile needs it
            provider[DOCKER_HOST_KEY] = request.docker_host
    if request.on_ecs:
        provider = {PLATFORM_STACK_KEY: request.platform, **_without_docker(provider)}
    body = render_stack_file(stack_document(spec), passphrase(), provider, secrets)
    return HEADER.format(profile=request.profile) + body


def _without_docker(provider: dict[str, Any]) -> dict[str, Any]:
    """An ECS tenant's provider settings: no Docker host; local endpoints for its services."""
    kept = {key: value for key, value in provider.items() if key != DOCKER_HOST_KEY}
    for endpoints in kept.get("aws:endpoints") or []:
        endpoints.update(dict.fromkeys(LOCAL_ECS_SERVICES, LOCAL_AWS_ENDPOINT))
    if "aws:endpoints" in kept:
        kept["aws:endpoints"] = [dict(sorted(e.items())) for e in kept["aws:endpoints"]]
    return kept


def onboard(
    request: NewTenant,
    *,
    dry_run: bool = False,
    send_email: bool = False,
    now: datetime | None = None,
    project: Project | None = None,
    catalog: Catalog | None = None,
) -> Onboarding:
    """Validate, then write the stack file, the welcome email and the event (or, with
    `dry_run`, only show them)."""
    check_request(request)
    project = project or find_project()
    catalog = catalog or load_catalog()
    now = now or datetime.now(UTC)
    spec = contract(request, catalog, now)
    path = project.stack_path(spec.tenant_id)
    text = render(request, spec)
    stack = stack_from_text(path, text)
    tenant_from_stack(stack, project, catalog, now)  # the file as every command will read it
    quote = price_quote(
        catalog, spec.tier, len(spec.agents), spec.vertical, spec.support, spec.billing == "annual"
    )
    result = Onboarding(spec, path, text, quote, dry_run, platform_stack=request.platform)
    if dry_run:
        from afrex.dryrun import plan_stacks

        (planned,) = plan_stacks([stack], project, catalog)
        result.plan_rows, result.plan_error = planned.rows, planned.error
        return result
    create_file(path, text)
    message = _welcome(result, catalog, now)
    result.welcome = _outbox(project, message, spec.tenant_id)
    failure = None
    if send_email:
        from afrex.welcome import send

        try:
            result.sent = send(message)
        except OperationFailed as error:
            failure = error
    _record(project, result)
    if failure is not None:
        raise OperationFailed(
            f"{spec.tenant_id} is onboarded (stack file, outbox, event log), but the welcome "
            f"email was not sent: {failure.message}",
            f"send {result.welcome} once that is fixed",
        )
    return result


def create_file(path: Path, text: str) -> None:
    """Write `path` whole, and only if no file of that name exists (never overwrite)."""
    staged = stage_file(path, text)
    try:
        os.link(staged, path)
    except FileExistsError:
        raise OperationFailed(
            f"{path} exists already; a new tenant never overwrites a stack file",
            "run the command again in a second (tenant ids carry the second they are made)",
        ) from None
    except OSError as error:
        raise OperationFailed(
            f"cannot write {path}: {error.strerror}", "check the folder"
        ) from None
    finally:
        staged.unlink(missing_ok=True)


def _welcome(result: Onboarding, catalog: Catalog, now: datetime) -> EmailMessage:
    from afrex.welcome import Welcome, welcome_message

    welcome = Welcome.of(result.spec, catalog, result.quote.monthly_total)
    return welcome_message(welcome, result.spec.contact, now)


def _outbox(project: Project, message: EmailMessage, tenant_id: str) -> Path:
    from afrex.welcome import outbox_folder, write_outbox

    folder = outbox_folder(project.root)
    try:
        return write_outbox(message, folder, tenant_id)
    except OSError as error:
        raise OperationFailed(
            f"{tenant_id}'s stack file is written, but the welcome email could not be put in "
            f"{folder}: {error.strerror}",
            "check the folder (or AFREX_OUTBOX); the tenant itself is onboarded",
        ) from None


def _record(project: Project, result: Onboarding) -> None:
    spec = result.spec
    details = {
        "company": spec.company,
        "contact": spec.contact,
        "tier": spec.tier,
        "vertical": spec.vertical,
        "support": spec.support,
        "billing": spec.billing,
        "runtime": spec.runtime,
        "agents": list(spec.agents),
        "monthly": str(result.quote.monthly_total),
        "stackFile": str(result.path.relative_to(project.root)),
        "welcomeEmail": str(result.welcome) if result.welcome else None,
        "welcomeSent": result.sent,
    }
    open_event_log(project.root).record(Event("tenant.onboarded", spec.tenant_id, details))
