"""`index.html` from a tenant's `dashboard.json` document: Jinja2 with autoescaping
on, self-contained (inline CSS and SVG, a Content-Security-Policy that forbids any
fetch), readable on a phone, with an uptime chart per agent."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from html import escape
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

CHART_WIDTH = 240
CHART_HEIGHT = 48


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("afrex.portal", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        keep_trailing_newline=True,
    )


def uptime_chart(points: list[dict[str, Any]], origin: datetime, period: int, slots: int) -> str:
    """An inline SVG bar per chart bucket, placed by its start: height = uptime (bars
    below 100% in red); buckets without samples stay empty. Every text is escaped."""
    if not points:
        return '<span class="missing">no Up samples</span>'
    width = CHART_WIDTH / max(slots, 1)
    bars = []
    for point in points:
        start = datetime.fromisoformat(point["start"].replace("Z", "+00:00"))
        index = int((start - origin).total_seconds()) // period
        pct = float(point["uptimePct"])
        height = max(1.0, CHART_HEIGHT * pct / 100)
        colour = "#17703a" if pct >= 100 else "#b3261e"
        title = escape(f"{point['start']}: {point['uptimePct']}% of {point['samples']} samples")
        bars.append(
            f'<rect x="{index * width:.2f}" y="{CHART_HEIGHT - height:.2f}" '
            f'width="{max(width - 1, 1):.2f}" height="{height:.2f}" fill="{colour}">'
            f"<title>{title}</title></rect>"
        )
    return (
        f'<svg viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" role="img" '
        f'aria-label="uptime by day">{"".join(bars)}</svg>'
    )


def render_index(document: dict[str, Any], period: int) -> str:
    """The page for one tenant's dashboard document (`period`: its chart's bucket)."""
    origin = datetime.fromisoformat(document["period"]["from"].replace("Z", "+00:00"))
    slots = -(-31 * 86_400 // period)
    cards = [
        ("Tasks completed", document["tasksCompleted"]),
        ("Hours saved", document["hoursSaved"]),
        ("Cost savings", document["costSavings"]),
        ("ROI", document["roiPct"]),
    ]
    charts = {
        a["name"]: uptime_chart(a["uptimeChart"], origin, period, slots) for a in document["agents"]
    }
    return (
        _environment().get_template("index.html.j2").render(d=document, cards=cards, charts=charts)
    )
