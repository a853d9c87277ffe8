"""Rules on ECS task definitions (tenants with `afrex:tenant.runtime: ecs`):

- `ecs-task-sizing`: task and container CPU/memory within the tier's Fargate size
  (catalog `fargate.sizes.<tier>`), launched on Fargate in awsvpc mode.
- `ecs-task-hardening`: the Docker container's hardening, in ECS terms: a non-root
  user, not privileged, a read-only root file system, an init process, every
  capability dropped, a health check and logs to CloudWatch (awslogs).
- `ecs-task-secrets`: the gateway token reaches the container only through
  `secrets` (a Secrets Manager reference), never as a plain environment variable.
- `ecs-efs-volumes`: every EFS volume encrypted in transit, with IAM authorization
  and an access point.

Messages name the setting and the fix; they never include a secret's value.
"""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from policies.ecs_props import (
    TASK_DEFINITION,
    TOKEN_ENV,
    container_definitions,
    fargate_size,
    tagged_identity,
    units,
)
from policies.props import Unknown, elements, is_unknown, lookup
from policies.tenancy import catalog

ROOT_USERS = ("", "0", "root")
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY")
SECRET_REFERENCE = re.compile(r"arn:aws[a-z-]*:(secretsmanager|ssm):\S+")
Containers = list[dict[str, Any]]


def _containers_of(args: ResourceValidationArgs) -> Containers | None:
    """The task's containers, or None when the rule does not apply or cannot see them."""
    if args.resource_type != TASK_DEFINITION:
        return None
    found = container_definitions(args.props)
    return None if isinstance(found, Unknown) else found


SIZED = (("cpu", "cpu_units", "CPU units"), ("memory", "memory_mb", "MB"))


def _sizing_problems(props: Any, containers: Containers) -> list[str]:
    sized = fargate_size(props)
    if sized is None:
        identity = tagged_identity(props)
        tier = identity.tier if identity else None
        if identity is None or is_unknown(tier):
            return []
        tiers = ", ".join(catalog().fargate.sizes)
        return [f"tags: afrex:tier {tier!r} is not a tier with a Fargate size; use one of {tiers}"]
    tier, size = sized
    problems = []
    for key, field, unit in SIZED:
        limit, raw = getattr(size, field), lookup(props, key)
        value = units(raw)
        if is_unknown(raw):
            continue
        if value is None:
            problems.append(f'{key}: not set; set {key}="{limit}", the {tier} tier\'s Fargate size')
        elif value > limit:
            problems.append(
                f"{key}: {value} {unit} exceeds the {tier} tier's Fargate size of {limit} "
                f'(catalog fargate.sizes.{tier}); set {key}="{limit}" or move the tenant to a '
                "larger tier"
            )
    for container in containers:
        memory = units(container.get("memory"))
        if memory is not None and memory > size.memory_mb:
            problems.append(
                f"container {container.get('name')}: memory {memory} MB exceeds the {tier} "
                f"tier's Fargate size of {size.memory_mb} MB; lower it to {size.memory_mb}"
            )
    return problems + _launch_problems(props)


def _launch_problems(props: Any) -> list[str]:
    problems = []
    compatibilities = elements(props, "requiresCompatibilities")
    if not isinstance(compatibilities, Unknown) and "FARGATE" not in compatibilities:
        problems.append(
            'requires_compatibilities: not FARGATE; set requires_compatibilities=["FARGATE"]'
        )
    mode = lookup(props, "networkMode")
    if not is_unknown(mode) and mode != "awsvpc":
        problems.append(f'network_mode: {mode or "unset"}; Fargate tasks use network_mode="awsvpc"')
    return problems


def _root_user(user: Any) -> bool:
    name = str(user if user is not None else "").split(":")[0].strip()
    return name in ROOT_USERS


def _container_hardening(container: dict[str, Any]) -> list[str]:
    name = container.get("name")
    linux = container.get("linuxParameters") or {}
    capabilities = linux.get("capabilities") or {}
    checks: list[tuple[bool, str]] = [
        (
            _root_user(container.get("user")),
            'user: runs as root; set "user" to the catalog\'s fargate.container_user',
        ),
        (container.get("privileged") is True, 'privileged: true; set "privileged": false'),
        (
            container.get("readonlyRootFilesystem") is not True,
            "readonlyRootFilesystem: not true; set it true (state and scratch are volumes)",
        ),
        (
            linux.get("initProcessEnabled") is not True,
            "linuxParameters.initProcessEnabled: not true; set it true so signals and "
            "zombies are handled",
        ),
        (
            "ALL" not in [str(c).upper() for c in capabilities.get("drop") or []],
            'linuxParameters.capabilities.drop: "ALL" is not dropped; set drop=["ALL"]',
        ),
        (
            bool(capabilities.get("add")),
            "linuxParameters.capabilities.add: adds capabilities back; remove it",
        ),
        (
            not (container.get("healthCheck") or {}).get("command"),
            "healthCheck: none; probe the gateway's /healthz (components/ecs_task.py)",
        ),
        (
            (container.get("logConfiguration") or {}).get("logDriver") != "awslogs"
            or not ((container.get("logConfiguration") or {}).get("options") or {}).get(
                "awslogs-group"
            ),
            "logConfiguration: not awslogs to a log group; send logs to the tenant's log "
            "group with the awslogs driver",
        ),
    ]
    return [f"container {name}: {message}" for bad, message in checks if bad]


def _secret_problems(containers: Containers) -> list[str]:
    problems = []
    for container in containers:
        name = container.get("name")
        plain = [
            str(e.get("name"))
            for e in container.get("environment") or []
            if isinstance(e, dict) and SECRET_NAME.search(str(e.get("name", "")).upper())
        ]
        if plain:
            problems.append(
                f"container {name}: environment: {', '.join(plain)} set as plain "
                "environment variable(s), readable by anyone who can describe the task; "
                'remove them and pass each in "secrets" with valueFrom a Secrets Manager ARN'
            )
        secrets = [s for s in container.get("secrets") or [] if isinstance(s, dict)]
        token = [s for s in secrets if s.get("name") == TOKEN_ENV]
        if TOKEN_ENV not in plain and not token:
            problems.append(
                f"container {name}: secrets: no {TOKEN_ENV}; the gateway would run without auth, "
                "pass the tenant's gateway-token secret (components/ecs_runtime.py does)"
            )
        for entry in secrets:
            if not SECRET_REFERENCE.fullmatch(str(entry.get("valueFrom", ""))):
                problems.append(
                    f"container {name}: secrets: {entry.get('name')} has a valueFrom that is not "
                    "a Secrets Manager or SSM ARN; reference the secret by its ARN"
                )
    return problems


def _volume_problems(props: Any) -> list[str]:
    volumes = elements(props, "volumes")
    if isinstance(volumes, Unknown):
        return []
    problems = []
    for volume in volumes:
        efs = lookup(volume, "efsVolumeConfiguration")
        if efs is None or is_unknown(efs):
            continue
        name = lookup(volume, "name")
        settings = (
            ("transitEncryption", lookup(efs, "transitEncryption"), 'transit_encryption="ENABLED"'),
            ("authorizationConfig.iam", lookup(efs, "authorizationConfig", "iam"), 'iam="ENABLED"'),
        )
        for key, value, fix in settings:
            if not is_unknown(value) and value != "ENABLED":
                problems.append(
                    f"volume {name}: efs {key} is {value or 'unset'}; set {fix} so agent state "
                    "is encrypted on the wire and mounted only with the task role"
                )
        point = lookup(efs, "authorizationConfig", "accessPointId")
        if point is None or point == "":
            problems.append(
                f"volume {name}: efs has no access point; mount the agent's own access point "
                "(authorization_config.access_point_id), never the file system's root"
            )
    return problems


def _report(report: ReportViolation, problems: list[str]) -> None:
    for problem in problems:
        report(problem, None)


def validate_ecs_task_sizing(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Report a task definition larger than its tier's Fargate size."""
    containers = _containers_of(args)
    if containers is not None:
        _report(report, _sizing_problems(args.props, containers))


def validate_ecs_task_hardening(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Report each hardening setting a task's container gets wrong."""
    containers = _containers_of(args)
    if containers is not None:
        _report(report, [p for c in containers for p in _container_hardening(c)])


def validate_ecs_task_secrets(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Report secrets set as plain environment variables, and a missing gateway token."""
    containers = _containers_of(args)
    if containers is not None:
        _report(report, _secret_problems(containers))


def validate_ecs_efs_volumes(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Report EFS volumes without transit encryption, IAM authorization or access point."""
    if args.resource_type == TASK_DEFINITION:
        _report(report, _volume_problems(args.props))


def _policy(name: str, description: str, validate: Any) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


ecs_task_sizing = _policy(
    "ecs-task-sizing",
    "ECS task definitions: CPU and memory within the tier's Fargate size, on Fargate, awsvpc.",
    validate_ecs_task_sizing,
)
ecs_task_hardening = _policy(
    "ecs-task-hardening",
    "ECS containers: non-root, not privileged, read-only root, init, capabilities dropped, "
    "a health check, awslogs.",
    validate_ecs_task_hardening,
)
ecs_task_secrets = _policy(
    "ecs-task-secrets",
    "ECS containers get the gateway token (and any secret) through `secrets`, never `environment`.",
    validate_ecs_task_secrets,
)
ecs_efs_volumes = _policy(
    "ecs-efs-volumes",
    "EFS volumes of ECS tasks: transit encryption and IAM authorization on, through an "
    "access point.",
    validate_ecs_efs_volumes,
)
