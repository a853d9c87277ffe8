"""Is each deployed tenant's backup bucket still expiring backups at the retention?

S3 has no batch call for lifecycle configurations, so each bucket is one
GetBucketLifecycleConfiguration, a few at a time on daemon threads, under a
deadline. A bucket answers `ok` (an enabled rule for every object expiring at
the catalog's `retention_days`), `missing` (no such rule), `no-bucket`, or
`unknown` (S3 could not be asked; the reason says why).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from afrex.catalog import Catalog
from afrex.deployed import TenantView
from afrex.fleetview.bounded import map_within

WORKERS = 16
MISSING_CODES = frozenset({"NoSuchLifecycleConfiguration"})
NO_BUCKET_CODES = frozenset({"NoSuchBucket"})


@dataclass(frozen=True)
class Lifecycle:
    """One bucket's lifecycle verdict."""

    tenant: str
    bucket: str
    state: str  # ok, missing, no-bucket, unknown
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "bucket": self.bucket,
            "state": self.state,
            "detail": self.detail,
        }


def expires_everything(rules: Sequence[dict[str, Any]], days: int) -> bool:
    """Whether an enabled rule expires every object at `days` days."""
    for rule in rules:
        selected = rule.get("Filter", {"Prefix": rule.get("Prefix", "")})
        whole_bucket = not selected or selected == {"Prefix": ""}
        expiration = rule.get("Expiration") or {}
        if rule.get("Status") == "Enabled" and whole_bucket and expiration.get("Days") == days:
            return True
    return False


def lifecycle_of(view: TenantView, days: int, client: Any) -> Lifecycle:
    """The verdict on one tenant's bucket."""
    from botocore.exceptions import BotoCoreError, ClientError

    from afrex.clients import aws_failure

    bucket = view.bucket or ""
    if not bucket:
        return Lifecycle(view.id, "", "no-bucket", "the stack outputs name no backup bucket")
    try:
        rules = client.get_bucket_lifecycle_configuration(Bucket=bucket).get("Rules", [])
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in MISSING_CODES:
            return Lifecycle(view.id, bucket, "missing", "no lifecycle configuration")
        if code in NO_BUCKET_CODES:
            return Lifecycle(view.id, bucket, "no-bucket", "the bucket does not exist")
        return Lifecycle(view.id, bucket, "unknown", str(aws_failure(error, "S3", "reading")))
    except BotoCoreError as error:
        reason = str(aws_failure(error, "S3", "reading bucket lifecycles"))
        return Lifecycle(view.id, bucket, "unknown", reason)
    if expires_everything(rules, days):
        return Lifecycle(view.id, bucket, "ok")
    return Lifecycle(view.id, bucket, "missing", f"no enabled rule expires backups at {days} days")


def check_lifecycles(
    views: Sequence[TenantView],
    catalog: Catalog,
    timeout: float,
    on_done: Callable[[], None] | None = None,
) -> dict[str, Lifecycle]:
    """Every deployed tenant's verdict; those not answered by the deadline are unknown."""
    from afrex.clients import s3

    client = s3()
    days = catalog.backups.retention_days
    outcomes = map_within(lambda v: lifecycle_of(v, days, client), views, WORKERS, timeout, on_done)
    found: dict[str, Lifecycle] = {}
    for index, view in enumerate(views):
        outcome = outcomes[index]
        if outcome.value is not None:
            found[view.id] = outcome.value
        else:
            why = f"no answer within {timeout:g} s" if not outcome.finished else repr(outcome.error)
            found[view.id] = Lifecycle(view.id, view.bucket or "", "unknown", why)
    return found
