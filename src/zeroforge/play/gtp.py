"""A GTP client: one engine process, started from an argv list (never a shell), one command
at a time with a timeout.

Replies start with `=` (success) or `?` (failure) and end with an empty line. Lines that start
with neither are not replies and are skipped (leelaz prints progress lines on stdout, FACTS.md).
stderr is drained continuously into a bounded tail (and optionally a log file) so a chatty
engine can never block on a full pipe, and so errors can quote it.
"""

from __future__ import annotations

import collections
import queue
import subprocess
import threading
from pathlib import Path

STDERR_TAIL_LINES = 40


class GTPError(RuntimeError):
    """The engine answered `? message`."""


class EngineDied(RuntimeError):
    """The engine exited or closed stdout; the message carries its stderr tail."""


class EngineTimeout(RuntimeError):
    """No reply within the timeout; the engine has been killed."""


class GTPEngine:
    def __init__(self, argv: list[str], name: str | None = None, stderr_log: Path | None = None,
                 cwd: str | Path | None = None, env: dict | None = None):
        if isinstance(argv, str):
            raise TypeError("argv must be a list of arguments, not a shell string")
        self.argv = [str(a) for a in argv]
        self.name = name or Path(self.argv[0]).name
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        self._log = open(stderr_log, "a", encoding="utf-8") if stderr_log else None
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, bufsize=1, cwd=cwd, env=env, errors="replace",
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read_stdout, daemon=True).start()
        self._stderr_thread = threading.Thread(target=self._read_stderr, daemon=True)
        self._stderr_thread.start()

    def _read_stdout(self) -> None:
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\r\n"))
        self._lines.put(None)

    def _read_stderr(self) -> None:
        for line in self.proc.stderr:
            self._stderr_tail.append(line.rstrip("\r\n"))
            if self._log:
                self._log.write(line)
                self._log.flush()

    def stderr_tail(self) -> str:
        return "\n".join(self._stderr_tail)

    def _died(self, what: str) -> EngineDied:
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        self._stderr_thread.join(timeout=1)
        return EngineDied(
            f"{self.name} {what} (exit code {code}); stderr tail:\n{self.stderr_tail()}"
        )

    def send(self, command: str, timeout: float | None = 60.0) -> str:
        """Send one command; return the reply text after `=`. Raises GTPError on `?`."""
        if "\n" in command:
            raise ValueError("one GTP command at a time (no newlines)")
        try:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise self._died(f"died before {command!r}") from None
        status, body = None, []
        while True:
            try:
                line = self._lines.get(timeout=timeout)
            except queue.Empty:
                self.kill()
                raise EngineTimeout(
                    f"{self.name} gave no reply to {command!r} within {timeout} s; killed. "
                    f"stderr tail:\n{self.stderr_tail()}"
                ) from None
            if line is None:
                raise self._died(f"exited while answering {command!r}")
            if status is None:
                if line.startswith("="):
                    status = "="
                elif line.startswith("?"):
                    status = "?"
                else:
                    continue  # not a reply line (progress output)
                first = line[1:].lstrip("0123456789").strip()
                body.append(first)
                continue
            if line.strip() == "":
                break
            body.append(line)
        text = "\n".join(body).strip()
        if status == "?":
            raise GTPError(f"{self.name}: {command!r} -> ? {text}")
        return text

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def close(self, timeout: float = 5.0) -> None:
        """`quit` politely, kill if it does not go."""
        if self.proc.poll() is None:
            try:
                self.send("quit", timeout=timeout)
            except (EngineDied, EngineTimeout, GTPError):
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
            self._log.close()
            self._log = None

    def __enter__(self) -> GTPEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
