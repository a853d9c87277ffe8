"""The welcome email a new customer gets: a real RFC 5322 message (plain text and
HTML alternatives) built with the standard library's `email` package.

`afrex tenant new` writes it into the outbox (`$AFREX_OUTBOX`, else the
project's `.afrex/outbox/`) as `<tenant id>-welcome.eml`, a file any mail tool
can open or send; with `--send` it also goes out through SES (v2, raw message),
from `$AFREX_MAIL_FROM` (default `welcome@afrexai.com`, which SES must have
verified). The message never carries a secret: the gateway token stays in the
stack file, encrypted.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from pathlib import Path

from afrex.atomicfiles import write_atomic
from afrex.billing import money
from afrex.catalog import Catalog
from afrex.spec import TenantSpec

OUTBOX_ENV = "AFREX_OUTBOX"
SENDER_ENV = "AFREX_MAIL_FROM"
DEFAULT_SENDER = "welcome@afrexai.com"
LOCAL_OUTBOX = Path(".afrex") / "outbox"


@dataclass(frozen=True)
class Welcome:
    """What the welcome email says, in plain values (rendered as text and as HTML)."""

    company: str
    tenant_id: str
    tier: str
    agents: tuple[str, ...]
    sla_pct: str
    support: str
    billing: str
    monthly: str

    @classmethod
    def of(cls, spec: TenantSpec, catalog: Catalog, monthly_total: Decimal) -> Welcome:
        return cls(
            company=spec.company,
            tenant_id=spec.tenant_id,
            tier=spec.tier,
            agents=tuple(spec.agents),
            sla_pct=str(catalog.tiers[spec.tier].sla_uptime_pct),
            support=spec.support,
            billing=spec.billing,
            monthly=money(monthly_total),
        )

    def facts(self) -> list[tuple[str, str]]:
        return [
            ("Account", self.tenant_id),
            ("Plan", f"{self.tier}, {len(self.agents)} agent(s)"),
            ("Agents", ", ".join(self.agents)),
            ("Uptime commitment", f"{self.sla_pct}% a month"),
            ("Support", self.support),
            ("Billing", f"{self.billing}, {self.monthly} a month"),
        ]

    def text(self) -> str:
        rows = "\n".join(f"  {label}: {value}" for label, value in self.facts())
        return (
            f"Welcome to AfrexAI Hosted Agents, {self.company}!\n\n"
            "Your private agent environment is being set up. Here is what you have:\n\n"
            f"{rows}\n\n"
            "Your agents run in their own isolated network, their state is backed up\n"
            "daily, and we watch their availability around the clock. We will write\n"
            "again as soon as they are live.\n\n"
            "Questions? Just reply to this email.\n\n"
            "The AfrexAI team\n"
        )

    def html(self) -> str:
        rows = "".join(
            f"<tr><th align='left'>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
            for label, value in self.facts()
        )
        return (
            "<!doctype html><html><body>"
            f"<h1>Welcome to AfrexAI Hosted Agents, {html.escape(self.company)}!</h1>"
            "<p>Your private agent environment is being set up. Here is what you have:</p>"
            f"<table>{rows}</table>"
            "<p>Your agents run in their own isolated network, their state is backed up "
            "daily, and we watch their availability around the clock. We will write again "
            "as soon as they are live.</p>"
            "<p>Questions? Just reply to this email.</p><p>The AfrexAI team</p>"
            "</body></html>\n"
        )


def sender() -> str:
    return os.environ.get(SENDER_ENV) or DEFAULT_SENDER


def welcome_message(welcome: Welcome, to: str, when: datetime) -> EmailMessage:
    """The RFC 5322 message: headers, a text part and its HTML alternative."""
    message = EmailMessage(policy=SMTP)
    source = sender()
    message["From"] = f"AfrexAI <{source}>"
    message["To"] = to
    message["Subject"] = f"Welcome to AfrexAI Hosted Agents, {welcome.company}"
    message["Date"] = format_datetime(when)
    message["Message-ID"] = make_msgid("welcome", domain=source.rpartition("@")[2])
    message.set_content(welcome.text())
    message.add_alternative(welcome.html(), subtype="html")
    return message


def outbox_folder(project_root: Path) -> Path:
    override = os.environ.get(OUTBOX_ENV)
    return Path(override) if override else project_root / LOCAL_OUTBOX


def write_outbox(message: EmailMessage, folder: Path, tenant_id: str) -> Path:
    """Write the message as `<tenant id>-welcome.eml` (atomically); its path."""
    path = folder / f"{tenant_id}-welcome.eml"
    write_atomic(path, message.as_bytes())
    return path


def send(message: EmailMessage) -> str:
    """Send through SES v2 as a raw message; SES's message id."""
    from botocore.exceptions import BotoCoreError, ClientError

    from afrex.clients import aws_failure, sesv2

    client = sesv2()
    source = message["From"].addresses[0].addr_spec
    recipients = [a.addr_spec for a in message["To"].addresses]
    try:
        answer = client.send_email(
            FromEmailAddress=source,
            Destination={"ToAddresses": recipients},
            Content={"Raw": {"Data": message.as_bytes()}},
        )
    except (BotoCoreError, ClientError) as error:
        doing = f"sending the welcome email to {', '.join(recipients)}"
        raise aws_failure(error, "SES", doing) from None
    return str(answer.get("MessageId", ""))
