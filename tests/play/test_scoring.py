import pytest

from zeroforge.go.geometry import GTP_LETTERS, move_to_vertex, vertex_to_move
from zeroforge.play.scoring import normalise_result, result_winner, score_game

EYES = {f"{c}{r}" for c in "BEHNQS" for r in (2, 5, 8, 11, 14, 17)} | {"E4", "E6"}


def settled_game(dead_white_stone: bool) -> list[tuple[str, int]]:
    """A finished position: black fills columns A-K, white L-T, each around single-point
    eyes (so GNU Go has nothing left to play out); E4-E6 is a 3-point black eye, in which a
    lone white stone at E5 is dead. Area: black 190 points, white 171: B+11.5 at komi 7.5."""
    moves = []
    for col, letter in enumerate(GTP_LETTERS):
        for row in range(1, 20):
            vertex = f"{letter}{row}"
            if vertex not in EYES and not (dead_white_stone and vertex == "E5"):
                moves.append(
                    ("b" if col <= GTP_LETTERS.index("K") else "w", vertex_to_move(vertex))
                )
    if dead_white_stone:
        moves.append(("w", vertex_to_move("E5")))
    return moves


@pytest.mark.engine
def test_gnugo_scores_a_finished_game_with_chinese_rules():
    assert score_game(settled_game(False), 7.5) == "B+11.5"
    assert score_game(settled_game(False), 12.5) == "B+6.5"


@pytest.mark.engine
def test_dead_stones_are_removed(leelaz):
    moves = settled_game(dead_white_stone=True)
    assert score_game(moves, 7.5) == "B+11.5"
    # leelaz's own final_score keeps the dead stone (FACTS.md), hence GNU Go scores games
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
