import json

import pytest

from zeroforge.bench import AREAS, BenchResult
from zeroforge.cli import main
from zeroforge.commands.bench import DOC_HEADER, section, update_doc


def test_sections_are_replaced_in_place_and_others_kept(tmp_path):
    doc = tmp_path / "PERFORMANCE.md"
    update_doc(
        doc,
        {
            "alpha": section("alpha", BenchResult({}, "A1"), quick=True),
            "beta": section("beta", BenchResult({}, "B1"), quick=True),
        },
    )
    text = doc.read_text()
    assert text.startswith(DOC_HEADER) and text.index("A1") < text.index("B1")
    update_doc(doc, {"alpha": section("alpha", BenchResult({}, "A2"), quick=False)})
    text = doc.read_text()
    assert "A1" not in text and "A2" in text and "B1" in text
    assert text.count("<!-- bench:alpha -->") == 1 and text.index("A2") < text.index("B1")
    assert "full run" in text and "cores" in text  # the machine it was measured on


def test_bench_chunks_quick_json(tmp_path, capsys):
    assert "chunks" in AREAS
    doc = tmp_path / "perf.md"
    code = main(["bench", "--quick", "--only", "chunks", "--json", "--doc", str(doc)])
    figures = json.loads(capsys.readouterr().out)
    assert code == 0
    for name in (
        "text_chunks_pos_per_s_per_core",
        "naive_parser_pos_per_s_per_core",
        "text_chunks_vs_naive_ratio",
    ):
        assert figures[name] > 0
    ratio = figures["text_chunks_pos_per_s_per_core"] / figures["naive_parser_pos_per_s_per_core"]
    assert abs(figures["text_chunks_vs_naive_ratio"] - ratio) < 1e-9
    text = doc.read_text()
    assert "<!-- bench:chunks -->" in text and "zeroforge bench --only chunks" in text


def test_bench_writes_no_doc_without_doc(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where docs/PERFORMANCE.md would land
    assert main(["bench", "--quick", "--only", "chunks"]) == 0
    out, err = capsys.readouterr()
    assert "zeroforge bench --only chunks" in out and "wrote" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.engine
def test_bench_gnugo_quick(tmp_path, capsys):
    doc = tmp_path / "perf.md"
    assert main(["bench", "--quick", "--only", "gnugo", "--json", "--doc", str(doc)]) == 0
    figures = json.loads(capsys.readouterr().out)
    one, two = figures["gnugo_l0_w1_games_per_hour"], figures["gnugo_l0_w2_games_per_hour"]
    assert one > 0 and two > 0 and abs(figures["gnugo_l0_w2_vs_w1_ratio"] - two / one) < 1e-9
    assert figures["gnugo_l0_w1_games_per_hour_per_core"] == one
    assert "zeroforge bench --only gnugo" in doc.read_text()


def test_bench_binpack_quick_json(tmp_path, capsys):
    assert "binpack" in AREAS
    doc = tmp_path / "perf.md"
    code = main(["bench", "--quick", "--only", "binpack", "--json", "--doc", str(doc)])
    figures = json.loads(capsys.readouterr().out)
    assert code == 0
    compiled = figures["binpack_features_pos_per_s_per_core"]
    reference = figures["python_chess_pos_per_s_per_core_ref"]
    assert compiled > 0 and reference > 0 and figures["dataset_batches_pos_per_s_per_core"] > 0
    assert abs(figures["compiled_vs_python_chess_ratio"] - compiled / reference) < 1e-9
    assert "zeroforge bench --only binpack" in doc.read_text()


def test_bench_nnue_quick_json(tmp_path, capsys):
    assert "nnue" in AREAS
    doc = tmp_path / "perf.md"
    assert main(["bench", "--quick", "--only", "nnue", "--json", "--doc", str(doc)]) == 0
    figures = json.loads(capsys.readouterr().out)
    names = ("recipe_vs_before_positions_per_s_ratio", "recipe_vs_bare_loop_positions_per_s_ratio",
             "lazy_vs_dense_update_positions_per_s_ratio", "bf16_vs_fp32_step_time_ratio",
             "step_vs_limit_time_ratio", "recipe_vs_every_stack_positions_per_s_ratio")  # fmt: skip
    assert all(figures[f"nnue_{name}"] > 0 for name in names)
    text = doc.read_text()
    assert "zeroforge bench --only nnue" in text and "Limit of this CPU" in text


def test_bench_train_full_plan_fits_about_three_minutes():
    """The full `train` area took 6 min 53 s on an idle 2-core machine: its training work, at
    the rates measured there (about 250 GFLOP/s in fp32, 650 in bf16: docs/PERFORMANCE.md),
    must now take about a third of it, leaving room for the runs' start-up."""
    from zeroforge.bench.train import FULL, PRECISIONS, WARMUP_STEPS, forward_flops

    seconds = 0.0
    for net, batch, bare_steps, train_steps in FULL:
        blocks, filters = (int(v) for v in net.split("x"))
        steps = 1 + 2 * bare_steps + WARMUP_STEPS + train_steps  # bare: 1 warm-up, before, after
        gflop = 3 * forward_flops(blocks, filters) * batch * steps / 1e9
        seconds += gflop / 250 + gflop / 650
    assert set(PRECISIONS) == {"fp32", "bf16"}
    assert seconds < 90  # (the old plan: 198 s)
