"""`afrex sla watch`: check rounds on a schedule until SIGTERM or SIGINT.

Rounds start every `interval` (measured start to start). A round that takes
longer than the interval is reported and the next one starts when it ends:
rounds never overlap or pile up. A stop signal lets the current round finish
(its metrics, alerts and events are sent whole), then the watch ends cleanly.
"""

from __future__ import annotations

import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import TypeVar

from afrex.errors import AfrexError, BadInput

R = TypeVar("R")

INTERVAL = re.compile(r"(?P<value>[0-9]{1,6})(?P<unit>s|m|h)?")
UNITS = {"s": 1, "m": 60, "h": 3600, None: 1}
MIN_INTERVAL_S = 10
MAX_INTERVAL_S = 86_400
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def parse_interval(text: str) -> int:
    """`60s`, `5m`, `1h` or plain seconds, between 10 s and a day; else bad input."""
    match = INTERVAL.fullmatch(text)
    seconds = int(match["value"]) * UNITS[match["unit"]] if match else 0
    if not MIN_INTERVAL_S <= seconds <= MAX_INTERVAL_S:
        raise BadInput(
            f"--interval {text!r} is not an interval from {MIN_INTERVAL_S}s to 24h",
            "use e.g. 60s, 5m or 1h",
        )
    return seconds


@dataclass(frozen=True)
class Overrun:
    """A round that took longer than the interval."""

    round: int
    seconds: float
    interval: int

    def text(self) -> str:
        return (
            f"round {self.round} took {self.seconds:.1f} s, longer than the {self.interval} s "
            "interval; the next round starts now (rounds never overlap)"
        )


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT (the previous handlers come back afterwards)."""
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {number: signal.signal(number, _stop) for number in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def watch(
    interval: int,
    round_once: Callable[[], R],
    on_round: Callable[[int, R], None],
    on_overrun: Callable[[Overrun], None],
    on_error: Callable[[int, AfrexError], None],
    stop: threading.Event,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Run rounds every `interval` seconds until `stop` is set; returns rounds run. A
    round that fails (a stack file broken meanwhile) is reported and the watch goes on."""
    rounds = 0
    while not stop.is_set():
        started = clock()
        rounds += 1
        try:
            on_round(rounds, round_once())
        except AfrexError as error:
            on_error(rounds, error)
        took = clock() - started
        if took > interval:
            on_overrun(Overrun(rounds, took, interval))
            continue
        stop.wait(interval - took)
    return rounds
