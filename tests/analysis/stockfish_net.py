"""Talking to the real Stockfish 15.1 for the NNUE tests: export its embedded net, run `eval`,
and read its trace (the NNUE bucket table and the `NNUE evaluation` line)."""

from __future__ import annotations

import random
import re
import subprocess
from pathlib import Path

import chess

from zeroforge.analysis.nnue_eval import NORMALIZE_TO_PAWN_VALUE, Evaluation
from zeroforge.play.engines import engine_path

SF15_NET_BYTES = 47_001_499  # FACTS.md: nn-ad9b42354671.nnue embedded in Debian's stockfish 15.1
ROW = re.compile(r"^\|\s+(\d)\s+\|\s+([+\- ]\s*[\d.]+)\s+\|\s+([+\- ]\s*[\d.]+)\s+\|", re.M)
NNUE_LINE = re.compile(r"^NNUE evaluation\s+(\S+) \(white side\)", re.M)


def run_stockfish(commands: list[str], timeout: float = 60) -> str:
    """Send UCI commands (then `quit`) to a fresh Stockfish; its whole stdout. No `go` here:
    `quit` right after `go` would abort the search (FACTS.md)."""
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


def random_positions(count: int, seed: int = 9) -> list[str]:
    """Positions from seeded random games: many piece counts, both sides to move, no check."""
    rng = random.Random(seed)
    fens: list[str] = []
    while len(fens) < count:
        board = chess.Board()
        for _ in range(rng.randrange(10, 160)):
            moves = list(board.legal_moves)
            captures = [m for m in moves if board.is_capture(m)]
            if not moves:
                break
            board.push(rng.choice(captures if captures and rng.random() < 0.7 else moves))
        if not board.is_game_over() and not board.is_check():
            fens.append(board.fen())
    return fens


def eval_traces(fens: list[str], evalfile: Path | None = None) -> list[str]:
    """Stockfish's `eval` output from its bucket table on, one block per position; with
    `evalfile` the engine evaluates with that net (an absolute path without spaces)."""
    commands = [f"setoption name EvalFile value {evalfile}"] if evalfile else []
    for fen in fens:
        commands += [f"position fen {fen}", "eval"]
    out = run_stockfish(commands, timeout=60 + len(fens))
    if evalfile and f"NNUE evaluation using {evalfile} enabled" not in out:
        raise RuntimeError(f"stockfish did not load {evalfile}:\n{out[-2000:]}")
    blocks = out.split("NNUE network contributions")[1:]
    if len(blocks) != len(fens):
        raise RuntimeError(f"{len(blocks)} eval traces for {len(fens)} positions:\n{out[-2000:]}")
    return blocks


def cell(value: int) -> str:
    """Stockfish's format_cp_aligned_dot: sign, then |v| in pawns as %6.2f."""
    sign = "-" if value < 0 else "+" if value > 0 else " "
    return f"{sign}{abs(value) / NORMALIZE_TO_PAWN_VALUE:6.2f}"


def trace_cells(block: str) -> list[tuple[str, str]]:
    """(PSQT, positional) of the 8 buckets as Stockfish printed them, blanks squeezed."""
    rows = ROW.findall(block)
    assert len(rows) == 8, block
    return [(re.sub(r"\s+", " ", p), re.sub(r"\s+", " ", q)) for _, p, q in rows]


def our_cells(evaluation: Evaluation) -> list[tuple[str, str]]:
    """The same cells from our integer forward pass."""
    pairs = zip(evaluation.psqt, evaluation.positional, strict=True)
    return [(re.sub(r"\s+", " ", cell(p)), re.sub(r"\s+", " ", cell(q))) for p, q in pairs]


def trace_bucket(block: str) -> int:
    """The bucket Stockfish marked `<-- this bucket is used`."""
    line = next(x for x in block.splitlines() if "this bucket is used" in x)
    return int(ROW.match(line).group(1))


def printed_nnue_value(block: str) -> str:
    """The `NNUE evaluation` line's value (pawns, white's view, as printed)."""
    return NNUE_LINE.search(block).group(1)


def our_nnue_value(evaluation: Evaluation, board: chess.Board) -> str:
    white = evaluation.value if board.turn == chess.WHITE else -evaluation.value
    return f"{white / NORMALIZE_TO_PAWN_VALUE:+.2f}"
