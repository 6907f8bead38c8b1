"""Scoring a game with GNU Go under Chinese (area) rules, and reading result strings.

leelaz's own `final_score` does not remove dead stones (docs/ENGINES.md#leelaz), so a finished game is
replayed into a fresh `gnugo --chinese-rules` and scored by its `final_score`, which removes
dead stones first. GNU Go answers `B+12.5`, `W+3.5` or `0` (jigo), the form SGF's RE uses.

GNU Go's `final_score` first plays unsettled parts of the board out internally: 0.1-0.5 s on a
finished game here, but 40-120 s on a 30-move opening and more than 120 s on a board split by
two walls with large empty areas. A game stopped by a move cap is not finished, so it is
scored with `estimate_score` instead: GNU Go's quick judgement of the unfinished position
(its first token, e.g. `W+9.6`). Such records say so (`reason: move_cap`).

The final ownership of a game (`final_area`) is the same judgement point by point: GNU Go's
`final_status_list` names the dead stones and each side's territory; a side's area is its
stones that live plus its territory plus the opponent's dead stones (Chinese counting, so
stones in seki count for their colour); the empty points of a seki and dame belong to no one.
Its count gives the margin: area(black) - area(white) - komi equals `final_score` on the same
board. On a finished level-1 game `final_status_list` costs about as much as `final_score`
(about a second); on a game stopped by resignation, 5-20 s (it reads the open fights out).
"""

from __future__ import annotations

from collections.abc import Sequence

from zeroforge.go.geometry import move_to_vertex, vertex_to_move
from zeroforge.play.engines import engine_path
from zeroforge.play.gtp import GTPEngine

SCORER_LEVEL = 10  # GNU Go's default level: its full dead-stone reading
SCORER_SEED = 0  # scoring is deterministic, but never leave GNU Go on its clock seed
COLOUR_NAMES = {"b": "black", "w": "white"}


def scorer_argv(level: int = SCORER_LEVEL) -> list[str]:
    return [
        engine_path("gnugo"),
        "--mode",
        "gtp",
        "--chinese-rules",
        "--level",
        str(level),
        "--seed",
        str(SCORER_SEED),
    ]


def score_game(
    moves: Sequence[tuple[str, int]],
    komi: float,
    handicap_stones: Sequence[int] = (),
    timeout: float = 120.0,
    level: int = SCORER_LEVEL,
    finished: bool = True,
) -> str:
    """GNU Go's Chinese-rules result of the position after `moves` (`B+x`, `W+x` or `0`):
    `final_score` for a finished game, `estimate_score` for one stopped early.

    Raises the GTP client's errors (EngineDied, EngineTimeout, GTPError for a move GNU Go
    refuses) for the caller to record.
    """
    with GTPEngine(scorer_argv(level), name="gnugo scorer") as scorer:
        replay(scorer, moves, komi, handicap_stones, timeout)
        command = "final_score" if finished else "estimate_score"
        return normalise_result(scorer.send(command, timeout).split()[0])


def replay(
    gnugo: GTPEngine,
    moves: Sequence[tuple[str, int]],
    komi: float,
    handicap_stones: Sequence[int] = (),
    timeout: float = 120.0,
) -> None:
    """Set up a fresh 19x19 board in `gnugo` and play the game's moves onto it."""
    for command in ("boardsize 19", "clear_board", f"komi {komi}"):
        gnugo.send(command, timeout)
    if handicap_stones:
        vertices = " ".join(move_to_vertex(m) for m in handicap_stones)
        gnugo.send(f"set_free_handicap {vertices}", timeout)
    for colour, move in moves:
        gnugo.send(f"play {colour} {move_to_vertex(move)}", timeout)


def _points(gnugo: GTPEngine, command: str, timeout: float) -> set[int]:
    return {vertex_to_move(vertex) for vertex in gnugo.send(command, timeout).split()}


def final_area(gnugo: GTPEngine, timeout: float = 600.0) -> tuple[list[int], list[int]]:
    """(black's area, white's area): sorted move indices, of the board now in `gnugo` (see the
    module docstring; the dead stones are read out first, so a mid-game board takes longer)."""
    dead = _points(gnugo, "final_status_list dead", timeout)
    stones = {c: _points(gnugo, f"list_stones {name}", timeout) for c, name in COLOUR_NAMES.items()}
    area = {
        colour: (stones[colour] - dead)
        | _points(gnugo, f"final_status_list {name}_territory", timeout)
        for colour, name in COLOUR_NAMES.items()
    }
    area["b"] |= dead & stones["w"]
    area["w"] |= dead & stones["b"]
    return sorted(area["b"]), sorted(area["w"])


def game_area(
    moves: Sequence[tuple[str, int]],
    komi: float,
    handicap_stones: Sequence[int] = (),
    timeout: float = 600.0,
    level: int = SCORER_LEVEL,
) -> tuple[list[int], list[int]]:
    """`final_area` of the position after `moves`, in a fresh GNU Go (the scorer's settings)."""
    with GTPEngine(scorer_argv(level), name="gnugo scorer") as scorer:
        replay(scorer, moves, komi, handicap_stones, timeout)
        return final_area(scorer, timeout)


def normalise_result(text: str) -> str:
    """`B+12.5` / `W+R` / `0` from GNU Go or SGF spellings (`B+Resign`, `Draw`, `W+12`)."""
    clean = text.strip()
    if clean.upper() in ("0", "DRAW", "JIGO"):
        return "0"
    winner, plus, margin = clean.partition("+")
    if winner.upper() not in ("B", "W") or not plus:
        raise ValueError(f"not a game result: {text!r}")
    margin = margin.strip()
    if margin.upper() in ("R", "RESIGN"):
        margin = "R"
    elif margin.upper() in ("T", "TIME", "F", "FORFEIT", ""):
        margin = margin.upper()[:1]
    else:
        float(margin)  # a number, or ValueError
    return f"{winner.upper()}+{margin}"


def black_margin(result: str) -> float | None:
    """Black's lead in points of a result (`B+2.5` -> 2.5, `W+7.5` -> -7.5, `0` -> 0.0); None
    for a resignation, time or forfeit. ValueError for what is not a result."""
    result = normalise_result(result)
    if result == "0":
        return 0.0
    winner, _, margin = result.partition("+")
    if margin in ("R", "T", "F", ""):
        return None
    return float(margin) if winner == "B" else -float(margin)


def result_winner(result: str) -> str | None:
    """`b`, `w`, or None for jigo."""
    result = normalise_result(result)
    return None if result == "0" else result[0].lower()
