"""The shipped sample (data/sample/chess) is what its gensfen log says it is."""

import json
from pathlib import Path

import chess

from zeroforge.formats.binpack import read_binpack

SAMPLE = Path(__file__).parents[2] / "data" / "sample" / "chess" / "sf15-d6.binpack"


def test_sample_binpack_matches_its_log():
    log = [json.loads(line) for line in SAMPLE.with_name(SAMPLE.name + ".gensfen.jsonl").open()]
    records = list(read_binpack(SAMPLE))  # validates every record
    assert len(records) == sum(r["positions"] for r in log) > 2000
    assert SAMPLE.stat().st_size == max(r["end"] for r in log) < 100_000
    start = 0
    for game in sorted(log, key=lambda r: r["end"]):
        mine = records[start : start + game["positions"]]
        start += game["positions"]
        winner = {"1-0": chess.WHITE, "0-1": chess.BLACK}.get(game["result"])
        for record in mine:
            side = chess.Board(record.fen).turn
            assert record.result == (0 if winner is None else (1 if side == winner else -1))
            assert 16 <= record.ply <= game["plies"]
