"""Talking to the real Stockfish 15.1 for the NNUE tests: export its embedded net, run commands.
(Reading its `eval` trace is zeroforge.analysis.nnue_check's job.)"""

from __future__ import annotations

import subprocess
from pathlib import Path

from zeroforge.play.engines import engine_path

SF15_NET_BYTES = 47_001_499  # docs/ENGINES.md#stockfish: nn-ad9b42354671.nnue embedded in Debian's stockfish 15.1


def run_stockfish(commands: list[str], timeout: float = 60) -> str:
    """Send UCI commands (then `quit`) to a fresh Stockfish; its whole stdout. No `go` here:
    `quit` right after `go` would abort the search (docs/ENGINES.md#stockfish)."""
    text = "\n".join([*commands, "quit"]) + "\n"
    done = subprocess.run(
        [engine_path("stockfish")],
        input=text,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return done.stdout


def export_stockfish_net(directory: Path) -> Path:
    path = (directory / "sf15.nnue").resolve()
    out = run_stockfish([f"export_net {path}"])
    if not path.exists():
        raise RuntimeError(f"stockfish did not write {path}; it said:\n{out}")
    return path
