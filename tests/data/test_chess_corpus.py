"""The committed chess corpus (data/chess-d6) is what its README says: every shard made by the
documented gensfen command, read whole without a bad record, its log agreeing with its bytes,
and the positions counted in the README."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from zeroforge.chess.records import VALUE_NONE
from zeroforge.data.chess_decoder import read_decoded

CORPUS = Path(__file__).resolve().parents[2] / "data" / "chess-d6"
SETTINGS = {"depth": 6, "random_plies": 8, "random_moves": None, "write_min_ply": 0}


def shard_log(path: Path) -> list[dict]:
    return [json.loads(line) for line in open(f"{path}.gensfen.jsonl")]


def test_every_shard_reads_whole_and_matches_its_log_and_settings():
    shards = sorted(CORPUS.glob("*.binpack"))
    names = [p.name for p in shards]
    assert "sf15-d6-val.binpack" in names and "sf15-d6-s1.binpack" in names
    seeds = []
    total = 0
    for path in shards:
        settings = json.loads(Path(f"{path}.gensfen.json").read_text())
        assert settings["limits"] == {"depth": SETTINGS["depth"]}, path
        assert {k: settings[k] for k in SETTINGS if k != "depth"} == {
            k: v for k, v in SETTINGS.items() if k != "depth"
        }, path
        assert settings["adjudication"]["resign_score"] == 3000 and settings["skip"] == []
        seeds.append(settings["seed"])
        log = shard_log(path)
        assert not [g for g in log if g.get("error")], path
        assert log[-1]["end"] == path.stat().st_size, path  # no game past the log
        records = read_decoded(path)  # the compiled decoder validates every record
        assert len(records) == sum(g["positions"] for g in log), path
        assert np.isin(records["result"], (-1, 0, 1)).all()
        assert (records["score"] != VALUE_NONE).mean() > 0.99
        if path.name != "sf15-d6-val.binpack":
            total += len(records)
    assert len(set(seeds)) == len(seeds)  # no two shards replay the same games
    readme = (CORPUS / "README.md").read_text()
    assert f"{total:,} training positions" in readme
