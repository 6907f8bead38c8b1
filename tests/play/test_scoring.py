import pytest

from zeroforge.go.geometry import move_to_vertex, vertex_to_move
from zeroforge.play.scoring import black_margin, normalise_result, result_winner, score_game


@pytest.mark.engine
def test_gnugo_scores_a_finished_game_with_chinese_rules(settled_game):
    assert score_game(settled_game(False), 7.5) == "B+11.5"
    assert score_game(settled_game(False), 12.5) == "B+6.5"


@pytest.mark.engine
def test_dead_stones_are_removed(leelaz, settled_game):
    moves = settled_game(dead_white_stone=True)
    assert score_game(moves, 7.5) == "B+11.5"
    # leelaz's own final_score keeps the dead stone (docs/ENGINES.md#leelaz), hence GNU Go scores games
    engine = leelaz()
    for colour, move in moves:
        engine.send(f"play {colour} {move_to_vertex(move)}")
    assert engine.send("final_score") != "B+11.5"


@pytest.mark.engine
def test_unfinished_game_is_estimated():
    opening = [("b", vertex_to_move("Q16")), ("w", vertex_to_move("D4"))]
    assert result_winner(score_game(opening, 7.5, finished=False)) in ("b", "w")


@pytest.mark.parametrize(
    ("text", "result", "winner"),
    [
        ("B+12.5", "B+12.5", "b"),
        ("W+Resign", "W+R", "w"),
        ("w+r", "W+R", "w"),
        ("0", "0", None),
        ("Draw", "0", None),
        ("B+T", "B+T", "b"),
    ],
)
def test_result_spellings(text, result, winner):
    assert normalise_result(text) == result
    assert result_winner(text) == winner


@pytest.mark.parametrize("text", ["", "X+3", "B+lots", "B12"])
def test_bad_results(text):
    with pytest.raises(ValueError):
        normalise_result(text)


@pytest.mark.parametrize(
    ("text", "margin"),
    [("B+2.5", 2.5), ("W+7.5", -7.5), ("W+12", -12.0), ("0", 0.0), ("W+R", None), ("B+Time", None)],
)
def test_black_margin_is_blacks_lead_or_none_without_points(text, margin):
    assert black_margin(text) == margin


def test_black_margin_refuses_what_is_not_a_result():
    with pytest.raises(ValueError):
        black_margin("W+7.5x")
