"""One engine process talking a line protocol (GTP or UCI): started from an argv list (never a
shell), stdout read line by line into a queue, stderr drained continuously into a bounded tail
(and optionally a log file) so a chatty engine can never block on a full pipe, and so errors
can quote it. The protocols (`play.gtp`, `play.uci`) build on `write_line` and `next_line`.

Engines run in their own session: a Ctrl-C in the terminal reaches the controlling program
(which then closes them) instead of killing every engine mid-game. If the controller itself is
killed, the engines see end-of-file on stdin and exit.
"""

from __future__ import annotations

import collections
import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

STDERR_TAIL_LINES = 40


class EngineFailure(RuntimeError):
    """The engine process is gone (died, or killed after a timeout); carries its stderr tail."""

    def __init__(self, message: str, engine_name: str = "", stderr_tail: str = ""):
        super().__init__(message)
        self.engine_name = engine_name
        self.stderr_tail = stderr_tail


class EngineDied(EngineFailure):
    """The engine exited or closed stdout; the message carries its stderr tail."""


class EngineTimeout(EngineFailure):
    """No reply within the timeout; the engine has been killed."""


class EngineProcess:
    def __init__(
        self,
        argv: list[str],
        name: str | None = None,
        stderr_log: Path | None = None,
        cwd: str | Path | None = None,
        env: dict | None = None,
    ):
        if isinstance(argv, str):
            raise TypeError("argv must be a list of arguments, not a shell string")
        self.argv = [str(a) for a in argv]
        if not self.argv:
            raise ValueError("empty engine command line")
        self.name = name or Path(self.argv[0]).name
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        self._log = open(stderr_log, "a", encoding="utf-8") if stderr_log else None
        try:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                bufsize=1,
                cwd=cwd,
                env=env,
                errors="replace",
                start_new_session=True,
            )
        except OSError as err:
            if self._log:
                self._log.close()
            raise EngineDied(
                f"{self.name} could not be started ({self.argv[0]}): {err}", self.name
            ) from None
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read_stdout, daemon=True).start()
        self._stderr_thread = threading.Thread(target=self._read_stderr, daemon=True)
        self._stderr_thread.start()

    def _read_stdout(self) -> None:
        try:
            for line in self.proc.stdout:
                self._lines.put(line.rstrip("\r\n"))
        except (OSError, ValueError):
            pass  # stream closed under us by close()
        self._lines.put(None)

    def _read_stderr(self) -> None:
        try:
            for line in self.proc.stderr:
                self._stderr_tail.append(line.rstrip("\r\n"))
                log = self._log
                if log:
                    log.write(line)
                    log.flush()
        except (OSError, ValueError):
            pass

    def stderr_tail(self) -> str:
        return "\n".join(self._stderr_tail)

    def died(self, what: str) -> EngineDied:
        """The error for a process that is gone (waits briefly for its exit code)."""
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.returncode
        self._stderr_thread.join(timeout=1)
        tail = self.stderr_tail()
        return EngineDied(
            f"{self.name} {what} (exit code {code}); stderr tail:\n{tail}", self.name, tail
        )

    def write_line(self, line: str) -> None:
        if "\n" in line or "\r" in line:
            raise ValueError("one command at a time (no newlines)")
        try:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except (OSError, ValueError):
            raise self.died(f"died before {line!r}") from None

    @staticmethod
    def deadline(timeout: float | None) -> float | None:
        return None if timeout is None else time.monotonic() + timeout

    def next_line(self, command: str, timeout: float | None, deadline: float | None) -> str:
        """The next stdout line; EngineDied at end of output, EngineTimeout (after killing the
        engine) once `deadline` (from `deadline(timeout)`) has passed."""
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            line = self._lines.get(timeout=left)
        except queue.Empty:
            self.kill()
            self._stderr_thread.join(timeout=1)
            tail = self.stderr_tail()
            raise EngineTimeout(
                f"{self.name} gave no reply to {command!r} within {timeout} s; killed. "
                f"stderr tail:\n{tail}",
                self.name,
                tail,
            ) from None
        if line is None:
            raise self.died(f"exited while answering {command!r}")
        return line

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) the engine process has used so far; None where /proc is
        unavailable or the process is gone. Lets rates be per core-second on a busy machine."""
        try:
            with open(f"/proc/{self.proc.pid}/stat", encoding="ascii") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the engine and anything it started
            except OSError:
                self.proc.kill()
        self.proc.wait()

    def quit(self, timeout: float) -> None:
        """Ask the engine to exit (the protocol's `quit`); errors are ignored by close()."""
        self.write_line("quit")

    def close(self, timeout: float = 5.0) -> None:
        """`quit` politely, kill if it does not go."""
        if self.proc.poll() is None:
            try:
                self.quit(timeout)
            except (EngineFailure, RuntimeError):
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass
        if self._log:
            log, self._log = self._log, None
            log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
