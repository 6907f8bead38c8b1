"""Does Stockfish 15.1 compute what we compute? Its `eval` trace against our integer forward pass.

`eval` (with `setoption name EvalFile value PATH`) prints, per position, a table of the 8 layer
stacks (PSQT and positional terms, in pawns with two decimals: internal units / 361) with the
stack in use marked, and the `NNUE evaluation` line (white's view). `check_net` runs one engine
over many positions and compares all 16 cells and the line with `analysis.nnue_eval.evaluate` of
the same file: any difference in the file's layout, hashes, scales or padding shows at once.
The printed resolution (3.61 internal units) is Stockfish's, so "equal" means every printed
digit equal. `float_gap` measures what quantisation costs: the float net against the integers.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import chess

from zeroforge.analysis.nnue_eval import Evaluation, evaluate
from zeroforge.chess.nnue_arch import SFNNV5
from zeroforge.chess.records import NORMALIZE_TO_PAWN_VALUE
from zeroforge.formats.nnue import NnueNet, read_nnue

ROW = re.compile(r"^\|\s+(\d)\s+\|\s+([+\- ]\s*[\d.]+)\s+\|\s+([+\- ]\s*[\d.]+)\s+\|", re.M)
BUCKET_ROW = re.compile(r"^\|\s+(\d)\s+\|", re.M)
NNUE_LINE = re.compile(r"^NNUE evaluation\s+(\S+) \(white side\)", re.M)
TABLE_TITLE = "NNUE network contributions"


def random_positions(count: int, seed: int = 9) -> list[str]:
    """FENs from seeded random games (captures preferred, so every piece count shows up): both
    sides to move, never in check, never over."""
    rng = random.Random(seed)
    fens: list[str] = []
    while len(fens) < count:
        board = chess.Board()
        for _ in range(rng.randrange(10, 160)):
            moves = list(board.legal_moves)
            if not moves:
                break
            captures = [m for m in moves if board.is_capture(m)]
            board.push(rng.choice(captures if captures and rng.random() < 0.7 else moves))
        if not board.is_game_over() and not board.is_check():
            fens.append(board.fen())
    return fens


def eval_output(
    fens: list[str],
    evalfile: str | os.PathLike | None,
    stockfish: str | None = None,
    options: dict[str, str] | None = None,
) -> str:
    """Stockfish's whole output for `eval` on each position; with `evalfile` (an absolute path
    without spaces) it evaluates with that net, `options` are more UCI options (e.g. {"Use
    NNUE": "false"} for the classical evaluation)."""
    from zeroforge.play.engines import engine_path

    commands = [f"setoption name {name} value {value}" for name, value in (options or {}).items()]
    if evalfile is not None:
        evalfile = Path(evalfile).resolve()
        if " " in str(evalfile):
            raise ValueError(f"{evalfile}: Stockfish reads option values up to a space")
        commands.append(f"setoption name EvalFile value {evalfile}")
    for fen in fens:
        commands += [f"position fen {fen}", "eval"]
    text = "\n".join([*commands, "quit"]) + "\n"
    argv = [stockfish or engine_path("stockfish")]
    # (errors="replace": Stockfish echoes a net's description, whatever bytes it holds)
    done = subprocess.run(
        argv, input=text.encode(), capture_output=True, timeout=60 + len(fens), check=False
    )
    out = done.stdout.decode("utf-8", errors="replace")
    if evalfile is not None and f"NNUE evaluation using {evalfile} enabled" not in out:
        said = " / ".join(line for line in out.splitlines() if "ERROR" in line) or out[-500:]
        raise RuntimeError(
            f"{evalfile}: stockfish did not load it (exit status "
            f"{done.returncode}); it said: {said}"
        )
    if done.returncode != 0:
        raise RuntimeError(f"stockfish exited with status {done.returncode}: {out[-500:]}")
    return out


def eval_traces(
    fens: list[str], evalfile: str | os.PathLike | None, stockfish: str | None = None
) -> list[str]:
    """Stockfish's `eval` output from its bucket table on, one block per position; with
    `evalfile` (an absolute path without spaces) it evaluates with that net."""
    out = eval_output(fens, evalfile, stockfish)
    blocks = out.split(TABLE_TITLE)[1:]
    if len(blocks) != len(fens):
        raise RuntimeError(f"{len(blocks)} eval traces for {len(fens)} positions:\n{out[-2000:]}")
    return blocks


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def cell(value: int) -> str:
    """Stockfish's format_cp_aligned_dot: sign, then |v| in pawns as %6.2f."""
    sign = "-" if value < 0 else "+" if value > 0 else " "
    return f"{sign}{abs(value) / NORMALIZE_TO_PAWN_VALUE:6.2f}"


def trace_cells(block: str) -> list[tuple[str, str]] | None:
    """(PSQT, positional) of the 8 buckets as Stockfish printed them, blanks squeezed; None
    when it could not print them: its cells hold 7 characters, and a value of 1,000 pawns or
    more (a net with random weights) runs into the next cell."""
    rows = ROW.findall(block)
    if len(rows) != 8:
        if BUCKET_ROW.findall(block) and NNUE_LINE.search(block):
            return None
        raise RuntimeError(f"not a bucket table of 8 rows:\n{block[:1500]}")
    return [(_squeeze(p), _squeeze(q)) for _, p, q in rows]


def our_cells(evaluation: Evaluation) -> list[tuple[str, str]]:
    pairs = zip(evaluation.psqt, evaluation.positional, strict=True)
    return [(_squeeze(cell(p)), _squeeze(cell(q))) for p, q in pairs]


def trace_bucket(block: str) -> int:
    """The bucket Stockfish marked `<-- this bucket is used`."""
    line = next(x for x in block.splitlines() if "this bucket is used" in x)
    return int(BUCKET_ROW.match(line).group(1))


def printed_nnue_value(block: str) -> str:
    return NNUE_LINE.search(block).group(1)


def our_nnue_value(evaluation: Evaluation, board: chess.Board) -> str:
    white = evaluation.value if board.turn == chess.WHITE else -evaluation.value
    return f"{white / NORMALIZE_TO_PAWN_VALUE:+.2f}"


@dataclass
class CheckReport:
    positions: int = 0
    equal: int = 0
    white_to_move: int = 0
    buckets: set[int] = field(default_factory=set)
    mismatches: list[str] = field(default_factory=list)  # the first few, described
    unprinted: int = 0  # positions whose table Stockfish could not print: value and bucket only

    @property
    def ok(self) -> bool:
        return self.positions > 0 and self.equal == self.positions


def check_net(
    path: str | os.PathLike,
    fens: list[str],
    stockfish: str | None = None,
    keep: int = 5,
    ours: NnueNet | None = None,
) -> CheckReport:
    """Stockfish's `eval` of the net at `path` against our pass of it (or of `ours`) on every
    FEN."""
    net = ours if ours is not None else read_nnue(path)
    if net.arch is not SFNNV5:
        raise ValueError(
            f"{path}: a {net.arch.name} net; Stockfish 15.1, which this checks against, loads "
            f"only {SFNNV5.name} nets"
        )
    report = CheckReport()
    for fen, block in zip(fens, eval_traces(fens, path, stockfish), strict=True):
        board = chess.Board(fen)
        ours = evaluate(net, board)
        report.positions += 1
        report.white_to_move += board.turn == chess.WHITE
        report.buckets.add(ours.bucket)
        cells = trace_cells(block)
        report.unprinted += cells is None
        same = (
            (cells is None or our_cells(ours) == cells)
            and ours.bucket == trace_bucket(block)
            and our_nnue_value(ours, board) == printed_nnue_value(block)
        )
        report.equal += same
        if not same and len(report.mismatches) < keep:
            theirs = f"{printed_nnue_value(block)} bucket {trace_bucket(block)}"
            mine = f"{our_nnue_value(ours, board)} bucket {ours.bucket}"
            if cells is not None:
                theirs, mine = f"{cells} {theirs}", f"{our_cells(ours)} {mine}"
            report.mismatches.append(f"{fen}: stockfish {theirs}, ours {mine}")
    return report


def float_gap(float_net, path: str | os.PathLike, fens: list[str]) -> dict[str, float]:
    """|float net - integer pass of its export at `path`| over the FENs, internal units."""
    import torch

    from zeroforge.chess.features import MAX_ACTIVE, halfka_features, layer_stack_bucket
    from zeroforge.nn.sfnnv5 import NNUE2SCORE

    boards = [chess.Board(fen) for fen in fens]
    net = read_nnue(path)
    ints = torch.tensor([evaluate(net, b).value for b in boards], dtype=torch.float64)
    sides = []
    for turn_first in (True, False):
        rows = torch.full((len(boards), MAX_ACTIVE), -1, dtype=torch.long)
        for i, board in enumerate(boards):
            side = board.turn if turn_first else not board.turn
            features = torch.from_numpy(halfka_features(board, side))
            rows[i, : len(features)] = features
        sides.append(rows)
    bucket = torch.tensor([layer_stack_bucket(b) for b in boards])
    with torch.no_grad():
        floats = float_net.eval()(*sides, bucket).double() * NNUE2SCORE
    gap = (floats - ints).abs()
    return {
        "mean_abs": float(gap.mean()),
        "max_abs": float(gap.max()),
        "mean_abs_eval": float(ints.abs().mean()),
        "relative": float(gap.mean() / ints.abs().mean().clamp(min=1)),
    }
