"""A GTP client: one engine process (`play.process`), one command at a time with a timeout.

Replies start with `=` (success) or `?` (failure) and end with an empty line. Lines that start
with neither are not replies and are skipped (leelaz prints progress lines on stdout, docs/ENGINES.md#leelaz).
The timeout of `send` is a deadline for the whole reply, so an engine that keeps printing
non-reply lines cannot stretch it.
"""

from __future__ import annotations

from zeroforge.play.process import (  # noqa: F401  (re-exported: the errors of every client)
    EngineDied,
    EngineFailure,
    EngineProcess,
    EngineTimeout,
)


class GTPError(RuntimeError):
    """The engine answered `? message`."""


class GTPEngine(EngineProcess):
    def send(self, command: str, timeout: float | None = 60.0) -> str:
        """Send one command; return the reply text after `=`. Raises GTPError on `?`,
        EngineDied if the process is gone, EngineTimeout (after killing it) past `timeout`."""
        self.write_line(command)
        deadline = self.deadline(timeout)
        status, body = None, []
        while True:
            line = self.next_line(command, timeout, deadline)
            if status is None:
                if not line.startswith(("=", "?")):
                    continue  # not a reply line (progress output)
                status = line[0]
                body.append(line[1:].lstrip("0123456789").strip())
                continue
            if line.strip() == "":
                break
            body.append(line)
        text = "\n".join(body).strip()
        if status == "?":
            raise GTPError(f"{self.name}: {command!r} -> ? {text}")
        return text

    def quit(self, timeout: float) -> None:
        self.send("quit", timeout=timeout)
