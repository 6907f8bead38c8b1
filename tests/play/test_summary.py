from types import SimpleNamespace

from zeroforge.play.ratings import Sprt
from zeroforge.play.summary import build_summary, elo_text, markdown, progress_text


def fake_match(n_games: int, sprt=None):
    return SimpleNamespace(
        players={"a": None, "b": None},
        schedule="pair",
        game="go",
        komi=7.5,
        handicap=0,
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
    assert "| a | 2 | 0 | 0.0 % | 0 (anchor) |" in table
    assert "| player | games | wins | score | Elo vs a (95 %) |" in table


def test_table_and_pair_line_tell_one_story():
    """A 4-0 (the demo's match): the pair line's bound is the table's, seen from the other side
    (the table once said -382 ± 507 beside a pair line of +inf [+7, +inf])."""
    records = [record(i, "a") for i in range(4)]
    summary = build_summary(fake_match(4), records)
    pair = elo_text(summary)
    assert pair.startswith("Elo +inf [+") and pair.endswith(", +inf]")
    bound = pair[len("Elo +inf [+") : -len(", +inf]")]
    table = markdown(summary)
    assert f"| b | 4 | 0 | 0.0 % | -inf [-inf, -{bound}] |" in table
    assert "| a | 4 | 4 | 100.0 % | 0 (anchor) |" in table
    assert table.index("| a |") < table.index("| b |")  # strongest first
    assert "a vs b: score 100.0 % [" in table and pair in table
    # 3-1: finite, the same numbers with the sign turned
    records = [record(i, "a" if i else "b") for i in range(4)]
    summary = build_summary(fake_match(4), records)
    elo, (low, high) = summary["elo"], summary["elo_interval"]
    row = [line for line in markdown(summary).splitlines() if line.startswith("| b |")][0]
    assert row.endswith(f"| {round(-elo):+d} [{round(-high):+d}, {round(-low):+d}] |")


def test_even_match():
    records = [record(i, "a" if i % 2 else "b") for i in range(4)]
    summary = build_summary(fake_match(4), records)
    assert summary["score"] == 0.5 and elo_text(summary).startswith("Elo +0 [")
    assert summary["finished"] is True
