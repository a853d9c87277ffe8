"""A throw-away project of tenant stacks for billing tests (see the `fleet` fixture)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import write_stack

ACME = "cust-acme-legal-1767225600"  # provisioned 2026-01-01T00:00:00Z


@dataclass
class Fleet:
    """A project folder (Pulumi.yaml + stacks/) that AFREX_PROJECT points at."""

    root: Path

    @property
    def invoices(self) -> Path:
        return self.root / "invoices"

    def add(self, tenant_id: str, **tenant: Any) -> Path:
        """Write `stacks/Pulumi.<tenant_id>.yaml` with an `afrex:tenant` object."""
        return write_stack(self.root / "stacks", tenant_id, **tenant)

    def files(self) -> list[str]:
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file())


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fleet:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text("name: afrex\nstackConfigDir: stacks\n")
    monkeypatch.setenv("AFREX_PROJECT", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "160")
    return Fleet(tmp_path)


PASSPHRASE = "afrex-test-passphrase"


def ready_to_onboard(fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> Fleet:
    """`fleet`, set for `afrex tenant new`: a stack passphrase, and the event log, the
    outbox, the sender and the state backend at their defaults (inside the project)."""
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", PASSPHRASE)
    for name in ("AFREX_EVENTS", "AFREX_OUTBOX", "AFREX_MAIL_FROM", "PULUMI_BACKEND_URL"):
        monkeypatch.delenv(name, raising=False)
    return fleet


def acme(fleet: Fleet) -> Path:
    """Acme: starter from 2026-01-01, growth with priority support from 2026-03-15 10:30."""
    return fleet.add(
        ACME,
        tier="growth",
        vertical="legal",
        support="priority",
        history=[
            {"effective": "2026-01-01T00:00:00Z", "tier": "starter", "agents": 1},
            {
                "effective": "2026-03-15T10:30:00Z",
                "tier": "growth",
                "agents": 3,
                "support": "priority",
            },
        ],
    )
