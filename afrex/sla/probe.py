"""Probing agents: the gateway's health path over HTTP, many at once, each within a
short timeout, judged together with the container's state from its engine.

An agent is up when its container runs (and does not report itself unhealthy)
and its gateway answers the health path with a 2xx status within the timeout.
Podman never runs healthchecks by itself, so the HTTP answer is what decides;
an engine that could not be asked leaves the gateway's answer alone to decide
(and the probe says so). Probes use asyncio streams: one task per agent, at
most `concurrency` connections open at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from afrex.containers import ContainerStatus

MS = Decimal("0.1")
MAX_STATUS_LINE = 1024


@dataclass(frozen=True)
class HttpAnswer:
    """What a gateway's health path answered: a status and how long it took, or why not."""

    status: int | None = None
    response_ms: Decimal | None = None
    error: str | None = None

    @property
    def healthy(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class AgentProbe:
    """One agent's probe: container state, the gateway's answer, and the verdict."""

    tenant: str
    agent: str
    container: str
    gateway: str
    state: str
    health: str | None
    answer: HttpAnswer | None
    up: bool
    reason: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.tenant, self.agent)

    def as_dict(self) -> dict[str, Any]:
        answer = self.answer or HttpAnswer()
        return {
            "tenant": self.tenant,
            "agent": self.agent,
            "container": self.container,
            "gateway": self.gateway,
            "containerState": self.state,
            "containerHealth": self.health,
            "httpStatus": answer.status,
            "responseTimeMs": answer.response_ms,
            "up": self.up,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Target:
    """An agent to probe: who it is, where its gateway listens, its container's status."""

    tenant: str
    agent: str
    container: str
    gateway: str
    status: ContainerStatus | None


def judge(target: Target, answer: HttpAnswer | None, path: str) -> AgentProbe:
    """The verdict from the container's status and the gateway's answer."""
    status = target.status
    state = status.state if status else "unknown"
    health = status.health if status else None
    up, reason = False, ""
    if not target.gateway:
        reason = "no gateway address in the stack's outputs (redeploy the stack)"
    elif status is not None and status.known and not status.running:
        reason = f"container {target.container} is {state}"
    elif health == "unhealthy":
        reason = f"container {target.container} reports itself unhealthy"
    elif answer is None or answer.status is None:
        reason = (answer.error if answer else None) or f"{target.gateway}{path} was not probed"
    elif not answer.healthy:
        reason = f"{target.gateway}{path} answered HTTP {answer.status}"
    else:
        up = True
        if status is None or not status.known:
            why = status.error if status and status.error else "no container status"
            reason = f"judged by the health path alone ({why})"
    return AgentProbe(
        tenant=target.tenant,
        agent=target.agent,
        container=target.container,
        gateway=target.gateway,
        state=state,
        health=health,
        answer=answer,
        up=up,
        reason=reason,
    )


def needs_http(target: Target) -> bool:
    """Whether the gateway is worth asking (a stopped container's is not)."""
    status = target.status
    if not target.gateway:
        return False
    return status is None or not status.known or (status.running and status.health != "unhealthy")


def probe_agents(
    targets: Iterable[Target], path: str, timeout: float, concurrency: int
) -> list[AgentProbe]:
    """Probe every target's gateway (those worth asking) at once, then judge each."""
    wanted = list(targets)
    addresses = sorted({t.gateway for t in wanted if needs_http(t)})
    answers = asyncio.run(ask_all(addresses, path, timeout, concurrency)) if addresses else {}
    return [judge(t, answers.get(t.gateway) if needs_http(t) else None, path) for t in wanted]


async def ask_all(
    addresses: Iterable[str], path: str, timeout: float, concurrency: int
) -> Mapping[str, HttpAnswer]:
    """GET `path` from every `host:port`, at most `concurrency` in flight."""
    gate = asyncio.Semaphore(concurrency)

    async def one(address: str) -> tuple[str, HttpAnswer]:
        async with gate:
            return address, await ask(address, path, timeout)

    return dict(await asyncio.gather(*(one(a) for a in addresses)))


async def ask(address: str, path: str, timeout: float) -> HttpAnswer:
    """One HTTP/1.1 GET of `path` at `host:port`: the status line's code and the time to
    it (connect included), or why there is none."""
    host, _, port_text = address.rpartition(":")
    if not host or not port_text.isdigit():
        return HttpAnswer(error=f"gateway address {address!r} is not host:port")
    started = time.perf_counter()
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host.strip("[]"), int(port_text))
            request = f"GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
            writer.write(request.encode("ascii"))
            await writer.drain()
            status_line = await reader.readline()
    except TimeoutError:
        return HttpAnswer(error=f"{address}{path} did not answer within {timeout:g} s")
    except (OSError, ValueError, UnicodeError) as error:
        text = getattr(error, "strerror", None) or str(error) or type(error).__name__
        return HttpAnswer(error=f"cannot reach {address}: {text}")
    finally:
        if writer is not None:
            writer.close()
    elapsed = Decimal(repr((time.perf_counter() - started) * 1000)).quantize(MS)
    parts = status_line[:MAX_STATUS_LINE].split()
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        return HttpAnswer(response_ms=elapsed, error=f"{address}{path} did not answer HTTP")
    return HttpAnswer(status=int(parts[1]), response_ms=elapsed)
