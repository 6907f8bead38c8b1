"""The position state our .bin / .binpack records carry is Stockfish 15.1's own: for positions
reached by moves, Stockfish's `d` (its FEN of its internal state: pseudo-legal en passant
square, castling rights, rule-50 counter, move number) equals the FEN read back from a .bin,
and, with en passant kept only where legal, the FEN read back from a .binpack."""

import random
import subprocess

import chess
import pytest

from tests.chess.games import SPECIAL_FENS, play
from zeroforge.formats.binpack import read_binpack, write_binpack
from zeroforge.formats.sfbin import read_bin, write_bin
from zeroforge.play.engines import engine_path, have_engine

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(not have_engine("stockfish"), reason="stockfish not installed"),
]


def _stockfish_fens(queries: list[tuple[str, list[str]]]) -> list[str]:
    """Stockfish's FEN after `position fen START moves ...` for each query."""
    script = "".join(
        f"position fen {start} moves {' '.join(moves)}\nd\n" for start, moves in queries
    )
    out = subprocess.run(
        [engine_path("stockfish")],
        input=script + "quit\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    return [line[len("Fen: ") :] for line in out.splitlines() if line.startswith("Fen: ")]


def test_records_hold_stockfish_position_state(tmp_path):
    rng = random.Random(2024)
    records, queries = [], []
    for start in SPECIAL_FENS * 3:
        game = play(rng, start, 60)
        records += game
        queries += [(start, [r.move for r in game[:i]]) for i in range(len(game))]
    stockfish = _stockfish_fens(queries)
    assert len(stockfish) == len(records)
    write_bin(tmp_path / "g.bin", records)
    write_binpack(tmp_path / "g.binpack", records)
    from_bin = [r.fen for r in read_bin(tmp_path / "g.bin")]
    from_binpack = [r.fen for r in read_binpack(tmp_path / "g.binpack")]
    assert from_bin == stockfish
    assert from_binpack == [chess.Board(fen).fen() for fen in stockfish]  # legal en passant
    assert any(" c6 " in fen for fen in from_bin)  # the pinned en passant case was reached
