from types import SimpleNamespace

from zeroforge.play.ratings import Sprt
from zeroforge.play.summary import build_summary, elo_text, markdown, progress_text


def fake_match(n_games: int, sprt=None):
    return SimpleNamespace(
        players={"a": None, "b": None},
        schedule="pair",
        game="go",
        komi=7.5,
        out="x",
        sprt=sprt,
        planned=lambda: list(range(n_games)),
    )


def record(game: int, winner: str | None, error: bool = False) -> dict:
    black, white = ("a", "b") if game % 2 == 0 else ("b", "a")
    return {
        "game": game,
        "black": black,
        "white": white,
        "winner": winner,
        **({"error": "engine died"} if error else {}),
    }


def test_counts_and_infinite_elo_text():
    records = [record(0, "b"), record(1, "b"), record(2, None, error=True)]
    summary = build_summary(fake_match(4, Sprt(0, 50)), records)
    assert summary["games"] == 2 and summary["errors"] == 1 and summary["error_games"] == [2]
    assert summary["wins"] == {"a": 0, "b": 2} and summary["black_wins"] == 1
    assert summary["score"] == 0 and summary["elo"] is None
    assert elo_text(summary).startswith("Elo -inf [-inf, ")
    assert summary["sprt"]["llr"] < 0 and summary["finished"] is False
    assert "a 0-2 b" in progress_text(summary) and "errors 1" in progress_text(summary)
    table = markdown(summary)
    assert "| a | 2 | 0 | 0.0 % | +0 |" in table


def test_even_match():
    records = [record(i, "a" if i % 2 else "b") for i in range(4)]
    summary = build_summary(fake_match(4), records)
    assert summary["score"] == 0.5 and elo_text(summary).startswith("Elo +0 [")
    assert summary["finished"] is True
