"""The summary of a match: counts, win rate and Elo with intervals, SPRT state and a rating
table, as one JSON-ready dict, a markdown table, a rich table and a one-line progress text.

Elo differences are of the first player against the second (the `--black` engine of a
two-player match). The rating table anchors the first player at 0 and says so in its header.
In a two-player match the other row is exactly the pair line seen from the other side (the same
Wilson interval: a 4-0 shows as `-inf [-inf, -7]` in the table and `+inf [+7, +inf]` on the
pair line, one story). For gauntlets and round robins every player gets a Bradley-Terry rating
(with one virtual draw per pair, so a perfect score stays finite) and a normal ± interval.
"""

from __future__ import annotations

import math
from typing import Any

from rich.table import Table

from zeroforge.play.ratings import Z95, PairResult, fit_elo


def build_summary(match, records: list[dict[str, Any]]) -> dict[str, Any]:
    names = list(match.players)
    played = [r for r in records if not r.get("error")]
    wins = {name: sum(r["winner"] == name for r in played) for name in names}
    summary: dict[str, Any] = {
        "players": names,
        "schedule": match.schedule,
        "planned": len(match.planned()),
        "games": len(played),
        "errors": sum(bool(r.get("error")) for r in records),
        "error_games": sorted(r["game"] for r in records if r.get("error")),
        "wins": wins,
        "draws": sum(r["winner"] is None for r in played),
        "black_wins": sum(r["winner"] is not None and r["winner"] == r["black"] for r in played),
        "white_wins": sum(r["winner"] is not None and r["winner"] == r["white"] for r in played),
        "game": match.game,
        "komi": match.komi if match.game == "go" else None,
        "handicap": match.handicap,
        "out": str(match.out),
    }
    if len(names) == 2:
        pair = pair_result(names[0], played)
        summary.update(
            score=pair.score,
            score_interval=list(pair.interval()),
            elo=pair.elo(),
            elo_interval=list(pair.elo_interval()),
        )
        if match.sprt is not None:
            summary["sprt"] = match.sprt.state(pair.trinomial())
    summary["ratings"] = _ratings(names, played)
    summary["anchor"] = names[0]
    summary["finished"] = len(records) >= summary["planned"] or bool(
        summary.get("sprt", {}).get("decision")
    )
    return summary


def pair_result(first: str, records: list[dict[str, Any]]) -> PairResult:
    """Wins, draws and losses of `first` in the games without error."""
    played = [r for r in records if not r.get("error")]
    return PairResult(
        wins=sum(r["winner"] == first for r in played),
        draws=sum(r["winner"] is None for r in played),
        losses=sum(r["winner"] not in (first, None) for r in played),
    )


def _ratings(names: list[str], played: list[dict]) -> dict[str, dict[str, Any]]:
    games = [
        (r["black"], r["white"], 0.5 if r["winner"] is None else float(r["winner"] == r["black"]))
        for r in played
    ]
    table: dict[str, dict[str, Any]] = {}
    fitted = fit_elo(names, games) if games else {n: (0.0, None) for n in names}
    for name in names:
        own = [(s if a == name else 1 - s) for a, b, s in games if name in (a, b)]
        elo, error = fitted[name]
        table[name] = {
            "games": len(own),
            "score": sum(own) / len(own) if own else None,
            "elo": elo,
            "elo_95": None if error is None else Z95 * error,
        }
    if len(names) == 2:  # the pair's own numbers, from the second player's side
        pair = pair_result(names[1], played)
        low, high = pair.elo_interval()
        table[names[1]].update(elo=pair.elo(), elo_95=None, elo_interval=[low, high])
        table[names[0]].update(elo=0.0, elo_95=None)
    return table


def _strength(rating: dict[str, Any]) -> float:
    """Sort key: the Elo, with an infinite one (None) on the side its score says."""
    if rating["elo"] is not None:
        return rating["elo"]
    return math.inf if (rating["score"] or 0) >= 0.5 else -math.inf


def _elo_cell(name: str, rating: dict[str, Any], anchor: str) -> str:
    if name == anchor:
        return "0 (anchor)"
    if "elo_interval" in rating:  # a pair: the same interval as the pair line
        low, high = rating["elo_interval"]
        infinite = "+inf" if (rating["score"] or 0) >= 0.5 else "-inf"
        if rating["score"] is None:
            return "-"
        return f"{_fmt_elo(rating['elo'], infinite)} [{_fmt_elo(low, '-inf')}, {_fmt_elo(high)}]"
    margin = "" if rating["elo_95"] is None else f" ± {rating['elo_95']:.0f}"
    return f"{_fmt_elo(rating['elo'])}{margin}"


def _fmt_elo(value: float | None, infinite: str = "+inf") -> str:
    """`+12`, never `-0`; None (a perfect score either way) is `infinite`."""
    return infinite if value is None else f"{round(value) + 0:+d}"


def elo_text(summary: dict[str, Any]) -> str:
    if summary.get("elo_interval") is None or summary["games"] == 0:
        return ""
    low, high = summary["elo_interval"]
    elo = _fmt_elo(summary["elo"], "+inf" if summary["score"] >= 0.5 else "-inf")
    return f"Elo {elo} [{_fmt_elo(low, '-inf')}, {_fmt_elo(high)}]"


def progress_text(summary: dict[str, Any]) -> str:
    """`a 3-1 b  Elo +191 [-20, +inf]  errors 0` (pairs) or `errors 0` (more players)."""
    parts = []
    if "elo" in summary:
        a, b = summary["players"]
        parts += [f"{a} {summary['wins'][a]}-{summary['wins'][b]} {b}", elo_text(summary)]
    if "sprt" in summary:
        parts.append(f"LLR {summary['sprt']['llr']:+.2f}")
    parts.append(f"errors {summary['errors']}")
    return "  ".join(p for p in parts if p)


def _rows(summary: dict[str, Any]) -> list[list[str]]:
    rows = []
    anchor = summary.get("anchor", summary["players"][0])
    ratings = sorted(summary["ratings"].items(), key=lambda item: -_strength(item[1]))
    for name, rating in ratings:  # strongest first
        score = "-" if rating["score"] is None else f"{100 * rating['score']:.1f} %"
        elo = _elo_cell(name, rating, anchor)
        rows.append([name, str(rating["games"]), str(summary["wins"][name]), score, elo])
    return rows


def header(summary: dict[str, Any]) -> list[str]:
    anchor = summary.get("anchor", summary["players"][0])
    return ["player", "games", "wins", "score", f"Elo vs {anchor} (95 %)"]


def footer(summary: dict[str, Any]) -> list[str]:
    if summary.get("komi") is None:  # chess
        colours = f"{summary['white_wins']} won by white, {summary['black_wins']} by black"
    else:
        stones = f", {summary['handicap']} handicap stones" if summary.get("handicap") else ""
        colours = f"{summary['black_wins']} won by black (komi {summary['komi']}{stones})"
    lines = [
        f"{summary['games']} games of {summary['planned']} played, "
        f"{summary['errors']} errors, {summary['draws']} draws, {colours}"
    ]
    if "elo" in summary:
        low, high = summary["score_interval"]
        score = "-" if summary["score"] is None else f"{100 * summary['score']:.1f} %"
        lines.append(
            f"{summary['players'][0]} vs {summary['players'][1]}: score {score} "
            f"[{100 * low:.1f}, {100 * high:.1f}] %, {elo_text(summary)}"
        )
    if "sprt" in summary:
        s = summary["sprt"]
        decision = s["decision"] or "continue"
        lines.append(
            f"SPRT elo0={s['elo0']} elo1={s['elo1']} alpha={s['alpha']} "
            f"beta={s['beta']}: LLR {s['llr']:+.2f} in [{s['lower']:.2f}, "
            f"{s['upper']:.2f}] -> {decision}"
        )
    return lines


def markdown(summary: dict[str, Any]) -> str:
    columns = header(summary)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row) + " |" for row in _rows(summary)]
    return "\n".join(lines + [""] + footer(summary)) + "\n"


def rich_table(summary: dict[str, Any]) -> Table:
    table = Table(title=f"match ({summary['schedule']})")
    for column in header(summary):
        table.add_column(column, justify="left" if column == "player" else "right")
    for row in _rows(summary):
        table.add_row(*row)
    return table
