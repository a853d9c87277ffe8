"""Calls to live sources that cannot hold the command up: every one runs on a daemon
thread and is waited for only until a deadline, so an engine or endpoint that never
answers costs at most the deadline (and never blocks the process from exiting)."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """A call's result, or the exception it raised, or neither (it did not finish in time)."""

    value: R | None = None
    error: BaseException | None = None
    finished: bool = True


def _run(fn: Callable[[], R], answers: queue.SimpleQueue[Outcome[R]]) -> None:
    try:
        answers.put(Outcome(value=fn()))
    except BaseException as error:  # handed to the caller, which decides what it means
        answers.put(Outcome(error=error))


def call_within(fn: Callable[[], R], seconds: float) -> Outcome[R]:
    """`fn()` on a daemon thread, waited for at most `seconds`."""
    answers: queue.SimpleQueue[Outcome[R]] = queue.SimpleQueue()
    threading.Thread(target=_run, args=(fn, answers), daemon=True).start()
    try:
        return answers.get(timeout=max(seconds, 0.0))
    except queue.Empty:
        return Outcome(finished=False)


def map_within(
    fn: Callable[[T], R],
    items: Iterable[T],
    workers: int,
    seconds: float,
    on_done: Callable[[], None] | None = None,
) -> dict[int, Outcome[R]]:
    """`fn(item)` for every item on at most `workers` daemon threads, until a deadline.

    Returns outcomes by the item's position; an item not finished by the deadline
    has `finished=False`. `on_done` is called (on the caller's thread) after each."""
    todo = list(enumerate(items))
    jobs: queue.SimpleQueue[tuple[int, T] | None] = queue.SimpleQueue()
    answers: queue.SimpleQueue[tuple[int, Outcome[R]]] = queue.SimpleQueue()
    for job in todo:
        jobs.put(job)

    def work() -> None:
        while (job := jobs.get()) is not None:
            index, item = job
            try:
                answers.put((index, Outcome(value=fn(item))))
            except BaseException as error:  # reported per item
                answers.put((index, Outcome(error=error)))

    threads = max(1, min(workers, len(todo)))
    for _ in range(threads):
        jobs.put(None)  # one stop marker per worker, after the work
        threading.Thread(target=work, daemon=True).start()
    deadline = time.monotonic() + seconds
    outcomes: dict[int, Outcome[R]] = {}
    while len(outcomes) < len(todo):
        try:
            index, outcome = answers.get(timeout=max(deadline - time.monotonic(), 0.0))
        except queue.Empty:
            _drain(jobs, threads)  # nothing new starts after the deadline
            break
        outcomes[index] = outcome
        if on_done is not None:
            on_done()
    for index, _ in todo:
        outcomes.setdefault(index, Outcome(finished=False))
    return outcomes


def _drain(jobs: queue.SimpleQueue[Any], workers: int) -> None:
    """Drop the jobs not started; each worker still finds its stop marker."""
    while True:
        try:
            jobs.get_nowait()
        except queue.Empty:
            break
    for _ in range(workers):
        jobs.put(None)


def run_all(calls: dict[str, Callable[[], Any]], seconds: float) -> dict[str, Outcome[Any]]:
    """Every call at once, each on its own daemon thread, all waited for until one deadline."""
    answers: dict[str, queue.SimpleQueue[Outcome[Any]]] = {}
    for name, fn in calls.items():
        answers[name] = queue.SimpleQueue()
        threading.Thread(target=_run, args=(fn, answers[name]), daemon=True).start()
    deadline = time.monotonic() + seconds
    outcomes: dict[str, Outcome[Any]] = {}
    for name, answer in answers.items():
        try:
            outcomes[name] = answer.get(timeout=max(deadline - time.monotonic(), 0.0))
        except queue.Empty:
            outcomes[name] = Outcome(finished=False)
    return outcomes
