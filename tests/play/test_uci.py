import pytest

from zeroforge.play.engines import engine_path, have_engine
from zeroforge.play.process import EngineDied, EngineTimeout
from zeroforge.play.uci import VALUE_MATE, Score, UCIEngine, UCIError, parse_info

stockfish = pytest.mark.skipif(not have_engine("stockfish"), reason="stockfish not installed")


def test_parse_info_reads_scores_bounds_and_pv():
    info = parse_info(
        "info depth 6 seldepth 4 multipv 1 score cp -18 upperbound nodes 518 nps 259000 "
        "hashfull 0 tbhits 0 time 2 pv c7c5 b1c3 g8f6"
    )
    assert info["depth"] == 6 and info["nodes"] == 518 and info["time"] == 2
    assert info["score"] == Score("cp", -18, "upperbound")
    assert info["pv"] == ["c7c5", "b1c3", "g8f6"]
    assert parse_info("info depth 0 score mate 0")["score"] == Score("mate", 0)
    assert parse_info("info string NNUE evaluation enabled") == {
        "string": "NNUE evaluation enabled"
    }


def test_score_values_in_stockfish_units():
    # Stockfish 15.1 prints cp = v * 100 / 361 (truncated): the inverse is within 3 units
    for v in range(-5000, 5001):
        cp = int(v * 100 / 361)
        assert abs(Score("cp", cp).value() - v) <= (3 if cp == 0 else 2)
    assert Score("mate", 1).value() == VALUE_MATE - 1  # mate with the next move: 1 ply
    assert Score("mate", 3).value() == VALUE_MATE - 5
    assert Score("mate", -1).value() == -VALUE_MATE + 2  # mated after our move and theirs
    assert Score("mate", 0).value() == -VALUE_MATE  # mated now


@pytest.mark.engine
@stockfish
def test_stockfish_searches_and_scores_mates():
    with UCIEngine([engine_path("stockfish")], options={"Threads": 1, "Hash": 16}) as sf:
        assert sf.id_name.startswith("Stockfish")
        assert "use nnue" in sf.options and sf.options["evalfile"] == "EvalFile"
        sf.new_game()
        sf.position(None, ["e2e4"])
        result = sf.go({"depth": 4})
        assert result.bestmove and len(result.bestmove) >= 4
        assert result.score.kind == "cp" and abs(result.score.amount) < 200
        assert result.depth == 4 and result.pv[0] == result.bestmove
        sf.position("7k/8/6K1/8/8/8/8/5Q2 w - - 0 1")  # Qf8# at once
        result = sf.go({"nodes": 200})
        assert (result.bestmove, result.score.value()) == ("f1f8", VALUE_MATE - 1)
        sf.position("6k1/8/6K1/8/8/8/8/5Q2 b - - 0 1")  # Kh8, then Qf8#
        assert sf.go({"nodes": 200}).score.value() == -VALUE_MATE + 2
        sf.position("7k/5Q2/6K1/8/8/8/8/8 b - - 0 1")  # stalemate: no move, score 0
        result = sf.go({"depth": 3})
        assert result.bestmove is None and result.score == Score("cp", 0)
        sf.position("7k/6Q1/6K1/8/8/8/8/8 b - - 0 1")  # checkmated
        result = sf.go({"depth": 3})
        assert result.bestmove is None and result.score.value() == -VALUE_MATE
        with pytest.raises(UCIError, match="no UCI option 'Bogus'"):
            sf.setoption("Bogus", 1)
    assert not sf.alive()


@pytest.mark.engine
@stockfish
def test_fatal_errors_and_timeouts_carry_the_engines_words():
    sf = UCIEngine([engine_path("stockfish")], options={"EvalFile": "/nonexistent/x.nnue"})
    sf.position()
    with pytest.raises(EngineDied) as info:  # Stockfish exits on `go` without a net
        sf.go({"depth": 1}, timeout=20)
    assert "network file /nonexistent/x.nnue was not loaded" in str(info.value)
    sf.close()
    with UCIEngine([engine_path("stockfish")]) as sf:
        sf.position()
        with pytest.raises(EngineTimeout, match="gave no reply to .go movetime 60000."):
            sf.go({"movetime": 60_000}, timeout=0.5)
        assert not sf.alive()


def test_a_missing_binary_or_a_non_uci_program_fails_clearly(tmp_path):
    with pytest.raises(EngineDied, match="could not be started"):
        UCIEngine([str(tmp_path / "nothing")])
    with pytest.raises(EngineTimeout, match="gave no reply to 'uci'"):
        UCIEngine(["sleep", "30"], startup_timeout=0.5)
    with pytest.raises(TypeError):
        UCIEngine("stockfish")
