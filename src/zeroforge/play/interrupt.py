"""Stopping a long driver loop cleanly on Ctrl-C (SIGINT) or SIGTERM (`kill`, `timeout`).

Python's own SIGINT handler raises KeyboardInterrupt wherever the main thread happens to be,
and a handler that raises on SIGTERM does the same: inside `threading.Condition.wait` between
releasing and re-acquiring its lock (the unwind then fails with "RuntimeError: release unlocked
lock"), or inside a pool's clean-up after the first signal when a second one follows (`timeout`
signals the command, then its whole process group). Under `signals_stop()` both signals only
set a flag; a driver loop calls `check()` where raising is safe (between waits, never inside a
lock), and KeyboardInterrupt leaves from there, so the command's one "interrupted" line is what
the user sees. A loop that runs without `signals_stop()` (a library call, a test) is unchanged:
`check()` never raises and Ctrl-C raises KeyboardInterrupt as usual.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait

SIGNALS = (signal.SIGINT, signal.SIGTERM)
POLL_S = 0.2  # how long a driver loop waits before it looks at the flag again


class _Flag:
    requested = False  # a plain attribute: a handler must take no lock the main thread may hold


_flag = _Flag()


def _handler(signum, frame) -> None:
    _flag.requested = True


@contextlib.contextmanager
def signals_stop() -> Iterator[None]:
    """SIGINT and SIGTERM set the stop flag (main thread only) instead of raising anywhere."""
    previous = {sig: signal.signal(sig, _handler) for sig in SIGNALS}
    _flag.requested = False
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _flag.requested = False


def requested() -> bool:
    return _flag.requested


def check() -> None:
    """Raise KeyboardInterrupt if a stop was asked for (call it where raising is safe)."""
    if _flag.requested:
        raise KeyboardInterrupt


def as_finished(futures: Iterable[Future]) -> Iterator[Future]:
    """The futures as they finish (cancelled ones too), with `check()` between waits: a
    driver loop's one safe place to leave on a stop while its games run in a thread pool."""
    pending = set(futures)
    while pending:
        check()
        done, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
        yield from done
