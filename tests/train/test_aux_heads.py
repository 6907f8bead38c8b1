"""Training-only ownership and score heads (nn/aux_heads.py): a real run on shards of annotated
GNU Go games learns them, and what it exports is exactly the net without them, as the real
leelaz computes it."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest

from tests.test_leelaz_equivalence import POSITIONS, assert_same, leelaz_heatmaps, our_heatmap
from tests.train.chunks import train_args, write_chunks
from zeroforge.commands import sgf2chunks
from zeroforge.commands.train import main
from zeroforge.convert.lzweights import export_net
from zeroforge.convert.nets import load_any_net
from zeroforge.nn.checkpoint import build_network
from zeroforge.play.engines import have_engine

CORPUS = Path(__file__).parents[2] / "data" / "gnugo-l1"
AUX = ["loss.ownership_weight=1.5", "loss.score_weight=0.5"]


def annotated_shards(folder: Path) -> Path:
    games = [str(CORPUS / f"gnugo-l1-s2000{i}.sgf") for i in (0, 2)]  # annotated (TB/TW)
    assert sgf2chunks.main([*games, "--out", str(folder), "--shards"]) == 0
    return folder


@pytest.mark.engine
@pytest.mark.skipif(not have_engine("leelaz"), reason="leelaz not installed")
def test_aux_heads_train_and_the_export_is_the_net_without_them(lowercase_tmp):
    shards = annotated_shards(lowercase_tmp / "shards")
    run = lowercase_tmp / "run"
    args = train_args(shards, run, 6, *AUX, f"data.val={shards}", "train.val_every=3")
    assert main([*args, "data.val_batches=2", "train.log_every=2"]) == 0
    with open(run / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert all(float(r["ownership_loss"]) > 0 and r["score_loss"] for r in rows if r["loss"])
    assert [r["step"] for r in rows if r["val_ownership_loss"]] == ["3", "6"]

    trained = load_any_net(run / "checkpoints" / "last.ckpt")
    assert trained.aux is not None  # the checkpoint keeps the heads (resume, init_from)
    plain = build_network({**trained.config(), "aux_heads": False})
    state = {k: v for k, v in trained.state_dict().items() if not k.startswith("aux.")}
    plain.load_state_dict(state)
    export_net(plain.eval(), lowercase_tmp / "plain.txt.gz")
    final = run / "nets" / "final.txt.gz"
    text = gzip.decompress(final.read_bytes())
    assert text == gzip.decompress((lowercase_tmp / "plain.txt.gz").read_bytes())
    moves = list(POSITIONS.values())[:3]
    for position, heatmap in zip(moves, leelaz_heatmaps(final, moves), strict=True):
        assert_same(our_heatmap(trained, position), heatmap, f"aux-trained net: {position!r}")


def test_aux_weights_on_data_without_the_targets_is_a_clear_error(tmp_path, capsys):
    chunks = write_chunks(tmp_path / "chunks", files=1, positions=40)
    assert main(train_args(chunks, tmp_path / "run", 2, *AUX)) == 1
    err = capsys.readouterr().err
    assert "sgf2chunks --shards" in err and "Traceback" not in err
