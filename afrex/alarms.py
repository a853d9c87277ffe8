"""Alarm states from CloudWatch, for many tenants in a few paged calls.

Every alarm of a tenant is named `afrex-<tenant id>-...` (components/naming.py),
so the states come from DescribeAlarms by name prefix, paged (100 alarms a
page), never one call per alarm: for one tenant its own prefix, for several the
prefix they share (`afrex-cust-` for a whole fleet), and each alarm is given to
the tenant whose prefix it carries (the longest, should one id be the start of
another). Metric and composite alarms both come back; an alarm *pages* when it
is a composite (the burn-rate alerts) or is one of the tenant's exported
`alarmNames`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

NAME_PREFIX = "afrex-"
PAGE_SIZE = 100
ALARM_TYPES = ["CompositeAlarm", "MetricAlarm"]
# A tenant id ends in its unix seconds; an alarm name continues with `-<agent>...`.
ID_END = re.compile(r"-\d{9,11}(?=-|$)")


@dataclass(frozen=True)
class AlarmState:
    """One alarm as CloudWatch reports it."""

    name: str
    state: str  # OK, ALARM, INSUFFICIENT_DATA
    kind: str  # metric or composite
    reason: str = ""
    updated: datetime | None = None
    pages: bool = False

    @property
    def firing(self) -> bool:
        return self.state == "ALARM"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "kind": self.kind,
            "pages": self.pages,
            "reason": self.reason,
            "updated": self.updated.isoformat() if self.updated else None,
        }


@dataclass
class AlarmStates:
    """Alarm states by tenant; `error` says why CloudWatch could not be asked (all unknown)."""

    by_tenant: dict[str, list[AlarmState]] = field(default_factory=dict)
    error: str | None = None
    calls: int = 0

    def of(self, tenant: str) -> list[AlarmState] | None:
        """The tenant's alarms, or None when they are unknown."""
        return None if self.error else self.by_tenant.get(tenant, [])


def shared_prefix(tenant_ids: Sequence[str]) -> str:
    """The name prefix every tenant's alarms share (a tenant's own for one tenant)."""
    prefixes = [f"{NAME_PREFIX}{tenant}-" for tenant in tenant_ids]
    return os.path.commonprefix(prefixes) if prefixes else NAME_PREFIX


def owner(name: str, tenants: set[str]) -> str | None:
    """The tenant an alarm name belongs to: the longest known id it starts with."""
    if not name.startswith(NAME_PREFIX):
        return None
    rest = name[len(NAME_PREFIX) :]
    found = None
    for match in ID_END.finditer(rest):
        candidate = rest[: match.end()]
        if candidate in tenants:
            found = candidate
    return found


def _state(raw: Mapping[str, Any], kind: str, paging: set[str]) -> AlarmState:
    name = str(raw.get("AlarmName", ""))
    updated = raw.get("StateUpdatedTimestamp")
    return AlarmState(
        name=name,
        state=str(raw.get("StateValue", "INSUFFICIENT_DATA")),
        kind=kind,
        reason=" ".join(str(raw.get("StateReason", "")).split()),
        updated=updated if isinstance(updated, datetime) else None,
        pages=kind == "composite" or name in paging,
    )


def alarm_states(
    tenant_ids: Sequence[str], paging: Mapping[str, Sequence[str]] | None = None
) -> AlarmStates:
    """Every alarm of these tenants, from DescribeAlarms by prefix, paged. `paging`: the
    alarm names each tenant exports (its pages). CloudWatch errors raise OperationFailed."""
    from botocore.exceptions import BotoCoreError, ClientError

    from afrex.clients import aws_failure, cloudwatch

    states = AlarmStates({tenant: [] for tenant in tenant_ids})
    if not tenant_ids:
        return states
    tenants = set(tenant_ids)
    pages = {name for names in (paging or {}).values() for name in names}
    prefix = shared_prefix(tenant_ids)
    try:
        client = cloudwatch()
        token: str | None = None
        while True:
            options: dict[str, Any] = {
                "AlarmNamePrefix": prefix,
                "AlarmTypes": ALARM_TYPES,
                "MaxRecords": PAGE_SIZE,
            }
            if token:
                options["NextToken"] = token
            answer = client.describe_alarms(**options)
            states.calls += 1
            found: list[tuple[str, Mapping[str, Any]]] = [
                *(("metric", raw) for raw in answer.get("MetricAlarms", [])),
                *(("composite", raw) for raw in answer.get("CompositeAlarms", [])),
            ]
            for kind, raw in found:
                tenant = owner(str(raw.get("AlarmName", "")), tenants)
                if tenant is not None:
                    states.by_tenant[tenant].append(_state(raw, kind, pages))
            token = answer.get("NextToken")
            if not token:
                return states
    except (BotoCoreError, ClientError) as error:
        raise aws_failure(error, "CloudWatch", f"reading alarms named {prefix}*") from None
