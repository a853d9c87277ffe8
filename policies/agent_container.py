"""Rule `agent-container-hardening`: every agent container is capped and locked down.

Memory and process (nproc) limits within the tenant's tier, no privileged mode,
all capabilities dropped, no port published on every interface, a restart policy,
a healthcheck and log rotation. Sizes come from the catalog's `tiers.<tier>.container`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from afrex.catalog import Tier
from policies.props import UNKNOWN, Unknown, elements, is_unknown, lookup, number
from policies.tenancy import AGENT_CONTAINER, IDENTITY_LABELS, agent_identity, catalog, tier_of

NAME = "agent-container-hardening"
RESTART_POLICIES = ("unless-stopped", "always")
ALL_INTERFACES = ("", "0.0.0.0", "::", "[::]")
LOG_ROTATION = ("max-size", "max-file")


def _identity_problems(props: Any) -> list[str]:
    identity = agent_identity(props)
    if identity is None:
        return []
    missing = [
        name
        for name, value in zip(IDENTITY_LABELS, identity.fields(), strict=True)
        if value is None or value == ""
    ]
    problems = []
    if missing:
        problems.append(
            f"labels: missing {', '.join(missing)}; agent containers carry afrex.tenant, "
            "afrex.tier and afrex.agent so tier limits can be checked; build them with HostedTenant"
        )
    tier = identity.tier
    if isinstance(tier, str) and tier and not is_unknown(tier) and tier_of(tier) is None:
        problems.append(
            f"labels: afrex.tier '{tier}' is not a tier in the catalog; "
            f"use one of {', '.join(catalog().tiers)}"
        )
    return problems


def _memory_problems(props: Any, tier_name: str, tier: Tier) -> list[str]:
    limit = tier.container.memory_mb
    memory = lookup(props, "memory")
    if memory is UNKNOWN:
        return []
    mb = number(memory)
    if mb is None or mb <= 0:
        return [f"memory: not set; set memory={limit} (MB), the {tier_name} tier's cap"]
    problems = []
    if mb > limit:
        problems.append(
            f"memory: {int(mb)} MB exceeds the {tier_name} tier's cap of {limit} MB; "
            f"set memory={limit} or move the tenant to a larger tier"
        )
    swap = lookup(props, "memorySwap")
    if swap is not UNKNOWN and number(swap) != mb:
        problems.append(
            f"memory_swap: must equal memory ({int(mb)} MB) so the container cannot swap "
            "past its cap; set memory_swap to the same value"
        )
    return problems


def _pids_problems(props: Any, tier_name: str, tier: Tier) -> list[str]:
    limit = tier.container.pids_limit
    ulimits = elements(props, "ulimits")
    if isinstance(ulimits, Unknown):
        return []
    fix = f"add ulimits=[{{name: nproc, soft: {limit}, hard: {limit}}}]"
    nproc = [u for u in ulimits if lookup(u, "name") == "nproc"]
    if not nproc:
        unknown_names = any(lookup(u, "name") is UNKNOWN for u in ulimits)
        return [] if unknown_names else [f"ulimits: no nproc (pids) limit; {fix}"]
    problems = []
    for entry in nproc:
        for bound in ("soft", "hard"):
            value = lookup(entry, bound)
            if value is UNKNOWN:
                continue
            count = number(value)
            if count is None or count <= 0 or count > limit:
                shown = "unset" if count is None else str(int(count))
                problems.append(
                    f"ulimits: nproc {bound} limit {shown} is not within the {tier_name} tier's "
                    f"pids_limit of {limit}; {fix}"
                )
    return problems


def _privilege_problems(props: Any) -> list[str]:
    problems = []
    if lookup(props, "privileged") is True:
        problems.append("privileged: true; agent containers never run privileged, set it false")
    drops = elements(props, "capabilities", "drops")
    if (
        not isinstance(drops, Unknown)
        and not any(str(d).upper() in ("ALL", "CAP_ALL") for d in drops)
        and not any(is_unknown(d) for d in drops)
    ):
        problems.append('capabilities: "ALL" is not dropped; set capabilities={drops: ["ALL"]}')
    adds = elements(props, "capabilities", "adds")
    if not isinstance(adds, Unknown) and adds:
        problems.append("capabilities: adds capabilities back; remove capabilities.adds")
    if lookup(props, "networkMode") == "host":
        problems.append("network_mode: host shares the host's network; use the tenant network")
    return problems


def _port_problems(props: Any) -> list[str]:
    ports = elements(props, "ports")
    if isinstance(ports, Unknown):
        return []
    problems = []
    for port in ports:
        ip = lookup(port, "ip")
        if ip is UNKNOWN:
            continue
        if ip is None or ip in ALL_INTERFACES:
            internal = number(lookup(port, "internal"))
            shown = int(internal) if internal is not None else "?"
            problems.append(
                f"ports: port {shown} is published on all interfaces (ip {ip or 'unset'}); "
                'bind it to loopback with ip="127.0.0.1"'
            )
    return problems


def _operations_problems(props: Any) -> list[str]:
    problems = []
    restart = lookup(props, "restart")
    if restart is not UNKNOWN and restart not in RESTART_POLICIES:
        problems.append(f"restart: '{restart or 'no'}'; set restart=\"unless-stopped\"")
    tests = elements(props, "healthcheck", "tests")
    if not isinstance(tests, Unknown) and (not tests or tests[0] == "NONE"):
        problems.append(
            "healthcheck: none; probe the gateway's /healthz with healthcheck.tests "
            "(components/agent_runtime.py healthcheck_command)"
        )
    log_opts = lookup(props, "logOpts")
    if log_opts is not UNKNOWN:
        missing = [key for key in LOG_ROTATION if lookup(log_opts, key) is None]
        if missing:
            problems.append(
                f"log_opts: no {' or '.join(missing)}; rotate logs with the catalog's "
                "gateway.log_max_size and gateway.log_max_files"
            )
    return problems


def _sized_problems(props: Any) -> list[str]:
    identity = agent_identity(props)
    tier = tier_of(identity.tier if identity else None)
    if identity is None or tier is None:
        return []  # labels unknown or invalid (reported above): sizes cannot be checked
    return _memory_problems(props, identity.tier, tier) + _pids_problems(props, identity.tier, tier)


CHECKS: tuple[Callable[[Any], list[str]], ...] = (
    _identity_problems,
    _sized_problems,
    _privilege_problems,
    _port_problems,
    _operations_problems,
)


def validate_agent_container(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Report each hardening setting an agent container gets wrong."""
    if args.resource_type != AGENT_CONTAINER:
        return
    for check in CHECKS:
        for problem in check(args.props):
            report(problem, None)


agent_container_hardening = ResourceValidationPolicy(
    name=NAME,
    description=(
        "Agent containers: memory and pids (nproc) limits within the tier, not privileged, "
        "capabilities dropped, no port on 0.0.0.0, a restart policy, a healthcheck, log rotation."
    ),
    validate=validate_agent_container,
    enforcement_level=EnforcementLevel.MANDATORY,
)
