"""`zeroforge nnue relabel`: a net's evaluations in place of the search scores."""

from __future__ import annotations

import numpy as np
import pytest

from tests.nn.test_sfnnv5_stockfish import trained_like_net
from zeroforge.analysis.nnue_eval import evaluate_features
from zeroforge.cli import main
from zeroforge.convert.nnue import export_nnue
from zeroforge.data.chess_decoder import read_decoded
from zeroforge.data.chess_records import iter_records

SAMPLE = "data/sample/chess/sf15-d6.binpack"


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    path = tmp_path_factory.mktemp("teacher") / "teacher.nnue"
    return path, export_nnue(trained_like_net(seed=7), path)


@pytest.mark.parametrize("suffix", [".plain", ".binpack"])
def test_scores_are_the_teachers_and_the_rest_is_kept(teacher, tmp_path, capsys, suffix):
    path, net = teacher
    out = tmp_path / f"labelled{suffix}"
    assert main(["nnue", "relabel", SAMPLE, str(out), "--net", str(path)]) == 0
    assert "wrote 4,625 records" in capsys.readouterr().out
    decoded = read_decoded(SAMPLE)
    expected = evaluate_features(
        net, decoded["us"], decoded["them"], (decoded["pieces"].astype(np.int64) - 1) // 4
    )
    before, after = list(iter_records(SAMPLE)), list(iter_records(out))
    assert [r.score for r in after] == expected.tolist()
    assert [(r.fen, r.move, r.ply, r.result) for r in after] == [
        (r.fen, r.move, r.ply, r.result) for r in before
    ]
    assert any(r.score != s.score for r, s in zip(after, before, strict=True))


def test_a_binpack_keeps_its_chunks_and_so_its_held_out_positions(teacher, tmp_path, capsys):
    from zeroforge.data.chess_dataset import ChessDataset
    from zeroforge.data.chess_decoder import iter_decoded

    path, _ = teacher
    out = tmp_path / "labelled.binpack"
    assert main(["nnue", "relabel", SAMPLE, str(out), "--net", str(path)]) == 0
    sizes = [len(records) for _, records in iter_decoded(SAMPLE)]
    assert len(sizes) > 50  # gensfen writes a chunk a game
    assert [len(records) for _, records in iter_decoded(out)] == sizes

    def held_out(file):
        dataset = ChessDataset([str(file)], 8192, position_range=(0.8, 1.0))
        batch = next(iter(dataset))
        return sorted(map(tuple, batch["us"].tolist())), batch["score"].tolist()

    (before, scores_before), (after, scores_after) = held_out(SAMPLE), held_out(out)
    assert 100 < len(before) < 2000 and before == after
    assert scores_before != scores_after


def test_errors_name_the_file(teacher, tmp_path, capsys):
    path, _ = teacher
    missing = tmp_path / "missing.nnue"
    assert main(["nnue", "relabel", SAMPLE, str(tmp_path / "x.plain"), "--net", str(missing)]) == 2
    assert "missing.nnue" in capsys.readouterr().err
    assert main(["nnue", "relabel", SAMPLE, str(tmp_path / "x.txt"), "--net", str(path)]) == 2
    assert "x.txt" in capsys.readouterr().err
    assert not (tmp_path / "x.plain").exists()


def test_blend_is_the_weighted_mean_of_teacher_and_search(teacher, tmp_path, capsys):
    from zeroforge.chess.records import VALUE_NONE

    path, _ = teacher
    full, half = tmp_path / "teacher.plain", tmp_path / "half.plain"
    assert main(["nnue", "relabel", SAMPLE, str(full), "--net", str(path)]) == 0
    assert main(["nnue", "relabel", SAMPLE, str(half), "--net", str(path), "--blend", "0.5"]) == 0
    search = [r.score for r in iter_records(SAMPLE)]
    teacher_scores = [r.score for r in iter_records(full)]
    blended = [r.score for r in iter_records(half)]
    for s, t, b in zip(search, teacher_scores, blended, strict=True):
        assert b == (t if s == VALUE_NONE else round(0.5 * t + 0.5 * s))
    assert blended != teacher_scores and blended != search
    assert main(["nnue", "relabel", SAMPLE, str(half), "--net", str(path), "--blend", "2"]) == 2
    assert "--blend must be in [0, 1]" in capsys.readouterr().err
