"""Billing months (`YYYY-MM`, UTC) and how a month is split by plan changes.

A month's plan charges are prorated by UTC day: each day is billed at the plan
in effect at the start of that day. A tenant's first plan counts from the
start of the day it was provisioned, so a tenant created mid-month is billed
from its first day.
"""

from __future__ import annotations

import calendar
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from afrex.errors import BadInput
from afrex.spec import PlanChange

MONTH_PATTERN = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})")


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month in UTC."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """`2026-03` → Month(2026, 3); anything else is bad input."""
        match = MONTH_PATTERN.fullmatch(text)
        if not match or not 1 <= int(match["month"]) <= 12 or int(match["year"]) < 1970:
            raise BadInput(f"--month {text!r} is not a month", "use YYYY-MM, e.g. 2026-03")
        return cls(int(match["year"]), int(match["month"]))

    @classmethod
    def of(cls, moment: datetime | date) -> Month:
        return cls(moment.year, moment.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def title(self) -> str:
        return f"{calendar.month_name[self.month]} {self.year}"

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, self.days)

    @property
    def start(self) -> datetime:
        """The month's first instant (UTC)."""
        return datetime.combine(self.first_day, time(), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the month (UTC)."""
        return self.start + timedelta(days=self.days)


@dataclass(frozen=True)
class Segment:
    """Consecutive days of a month billed at one plan."""

    tier: str
    agents: int
    support: str
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def _billing_starts(history: Sequence[PlanChange]) -> list[datetime]:
    """When each change starts to count: the first from its day's start, later ones as dated."""
    starts = [change.effective for change in history]
    first = starts[0]
    starts[0] = datetime.combine(first.date(), time(), tzinfo=UTC)
    return starts


def month_segments(
    history: Sequence[PlanChange], month: Month, through: date | None = None
) -> list[Segment]:
    """The month's days (up to `through`, for a draft) grouped into runs billed at the
    same plan; empty before the first."""
    if not history:
        return []
    starts = _billing_starts(history)
    segments: list[Segment] = []
    for offset in range(month.days):
        day = month.first_day + timedelta(days=offset)
        if through is not None and day > through:
            break
        index = bisect_right(starts, datetime.combine(day, time(), tzinfo=UTC)) - 1
        if index < 0:
            continue
        change = history[index]
        plan = (change.tier, change.agents, change.support)
        previous = segments[-1] if segments else None
        if previous and (previous.tier, previous.agents, previous.support) == plan:
            segments[-1] = Segment(*plan, first=previous.first, last=day)
        else:
            segments.append(Segment(*plan, first=day, last=day))
    return segments


def main_tier(segments: Sequence[Segment]) -> str:
    """The tier in effect for most of the billed days (on a tie, the later one)."""
    days: dict[str, int] = {}
    for segment in segments:
        days[segment.tier] = days.get(segment.tier, 0) + segment.days
    latest = {segment.tier: i for i, segment in enumerate(segments)}
    return max(days, key=lambda tier: (days[tier], latest[tier]))
