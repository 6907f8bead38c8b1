"""Go game records in SGF (FF[4], via sgfmill), both directions.

Writes one game: root properties GM[1] FF[4] CA[UTF-8] SZ[19] KM PB PW RE (omitted when the
game has no result), optional HA/AB for handicap stones, DT, a game comment GC, then one node
per move `;B[pd]` / `;W[]` (pass), and the final area of each side, when known, as TB/TW on the
last node (FF[4]: "black territory or area, depending on the rules"; here the area under
Chinese counting: the side's living stones, its territory and the opponent's dead stones;
seki's empty points and dame in neither). Reads a file holding one game or a collection of games and
gives each game's players, komi, result, handicap stones and main-line moves.

Teacher targets (zeroforge's own properties, `zeroforge annotate --teacher` writes them): on
a move node, `ZM` lists the candidate moves GNU Go would consider in the position the move was
played from, with its value of each (`ZM[pd:75.01][dp:74.01]`: best first, GNU Go's move values
in points, each above 0 but written to 2 decimals, so a tiny one reads 0.00; `ZM[]` when it
lists none), and `ZS` its score estimate of that position as black's lead in points, komi
included (`ZS[-2.9]`: white ahead by 2.9). The root's `ZL` is the GNU Go level that wrote them.

Moves are `(colour, move)` with colour `"b"`/`"w"` and move the index of `go.geometry`
(row * 19 + col, row 0 = rank 1, `PASS` = 361). sgfmill's (row, col) has the same orientation
(row 0 at the bottom), so no flipping happens here.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from pathlib import Path

from sgfmill import sgf, sgf_grammar, sgf_properties

from zeroforge.atomic import atomic_write_bytes
from zeroforge.go.geometry import BOARD_SIZE, PASS

COLOURS = ("b", "w")
TEACHER_MOVES, TEACHER_SCORE, TEACHER_LEVEL = "ZM", "ZS", "ZL"


@dataclass
class GameRecord:
    moves: list[tuple[str, int]]
    black: str = ""
    white: str = ""
    komi: float = 7.5
    result: str | None = None  # `B+R`, `W+12.5`, `0` (jigo), ... as in SGF RE
    handicap_stones: list[int] = field(default_factory=list)  # black setup stones (AB)
    size: int = BOARD_SIZE
    comment: str = ""
    # (black's area, white's area) as move indices, or None when not known (play/scoring.py)
    area: tuple[list[int], list[int]] | None = None


def _point(move: int) -> tuple[int, int] | None:
    return None if move == PASS else divmod(move, BOARD_SIZE)


def _move(point: tuple[int, int] | None) -> int:
    return PASS if point is None else point[0] * BOARD_SIZE + point[1]


def game_to_bytes(game: GameRecord) -> bytes:
    if game.size != BOARD_SIZE:
        raise ValueError(f"only {BOARD_SIZE}x{BOARD_SIZE} games are written, got {game.size}")
    record = sgf.Sgf_game(size=game.size, encoding="UTF-8")
    root = record.get_root()
    root.set("KM", float(game.komi))
    root.set("PB", game.black or "?")
    root.set("PW", game.white or "?")
    if game.result is not None:
        root.set("RE", game.result)
    if game.handicap_stones:
        root.set("HA", len(game.handicap_stones))
        root.set_setup_stones([_point(m) for m in game.handicap_stones], [])
    if game.comment:
        root.set("GC", game.comment)
    record.set_date(datetime.date.today())
    for colour, move in game.moves:
        if colour not in COLOURS:
            raise ValueError(f"move colour must be 'b' or 'w', got {colour!r}")
        node = record.extend_main_sequence()
        if move == PASS:
            node.set_raw(colour.upper(), b"")  # FF[4] pass; sgfmill would write [tt]
        else:
            node.set_move(colour, _point(move))
    if game.area is not None:
        set_area(record.get_last_node(), *game.area)
    return record.serialise()


def set_area(node: sgf.Tree_node, black: list[int], white: list[int]) -> None:
    """TB/TW of a node (an empty list is written as `TB[]`: known to be empty)."""
    node.set("TB", {_point(m) for m in black})
    node.set("TW", {_point(m) for m in white})


def final_area(game: sgf.Sgf_game) -> tuple[list[int], list[int]] | None:
    """TB/TW of the last main-line node as sorted move indices, or None if it has neither."""
    node = game.get_last_node()
    if not (node.has_property("TB") or node.has_property("TW")):
        return None
    return tuple(
        sorted(_move(p) for p in (node.get(key) if node.has_property(key) else ()))
        for key in ("TB", "TW")
    )


def set_teacher(node: sgf.Tree_node, candidates: list[tuple[int, float]], score: float) -> None:
    """ZM (candidate moves with their values, best first) and ZS (black's lead) of a move node."""
    values = [
        f"{sgf_properties.serialise_go_point(_point(move), BOARD_SIZE).decode()}:{value:.2f}"
        for move, value in candidates
    ]
    node.set_raw_list(TEACHER_MOVES, [v.encode("ascii") for v in values] or [b""])
    node.set_raw(TEACHER_SCORE, f"{score:.1f}".encode("ascii"))


def teacher(node: sgf.Tree_node) -> tuple[list[tuple[int, float]], float] | None:
    """(candidates [(move, value)], black's lead) of a move node, or None if it has neither
    ZM nor ZS. ValueError for a malformed value or only one of the two."""
    if not (node.has_property(TEACHER_MOVES) or node.has_property(TEACHER_SCORE)):
        return None
    if not (node.has_property(TEACHER_MOVES) and node.has_property(TEACHER_SCORE)):
        raise ValueError(f"{TEACHER_MOVES} and {TEACHER_SCORE} must come together")
    candidates = []
    try:
        for raw in node.get_raw_list(TEACHER_MOVES):
            if raw == b"":
                continue
            point, colon, value = raw.partition(b":")
            move = _move(sgf_properties.interpret_go_point(point, BOARD_SIZE))
            if not colon or move == PASS or not 0 <= float(value) < math.inf:
                raise ValueError("not a point:value with a value of 0 or more")
            candidates.append((move, float(value)))
        score = float(node.get_raw(TEACHER_SCORE))
        if not math.isfinite(score):
            raise ValueError("the score is not a finite number")
    except ValueError as err:
        raise ValueError(
            f"bad {TEACHER_MOVES}/{TEACHER_SCORE} value "
            f"{node.get_raw_list(TEACHER_MOVES)!r} {node.get_raw(TEACHER_SCORE)!r}: {err}"
        ) from None
    return candidates, score


def parse_collection(path: str | Path) -> list[sgf.Sgf_game]:
    """The sgfmill games of an SGF file (one game or a collection); ValueError names the file."""
    try:
        trees = sgf_grammar.parse_sgf_collection(Path(path).read_bytes())
        return [sgf.Sgf_game.from_coarse_game_tree(tree) for tree in trees]
    except (OSError, ValueError) as err:
        raise ValueError(f"{path}: not a readable SGF file: {err}") from None


def write_collection(path: str | Path, games: list[sgf.Sgf_game]) -> None:
    """Write sgfmill games back as one file, atomically (every other property kept)."""
    atomic_write_bytes(path, b"".join(game.serialise() for game in games))


def write_game(path: str | Path, game: GameRecord) -> None:
    """Write one game atomically (temp file in the same directory, then rename)."""
    path = Path(path)
    atomic_write_bytes(path, game_to_bytes(game))


def read_games(path: str | Path) -> list[GameRecord]:
    """Every game of an SGF file (one game or a collection), main lines only."""
    path = Path(path)
    try:
        data = path.read_bytes()
        trees = sgf_grammar.parse_sgf_collection(data)
    except (OSError, ValueError) as err:
        raise ValueError(f"{path}: not a readable SGF file: {err}") from None
    return [_record(path, number, tree) for number, tree in enumerate(trees, 1)]


def read_game(path: str | Path) -> GameRecord:
    """The single game of an SGF file (the first one of a collection)."""
    return read_games(path)[0]


def _record(path: Path, number: int, tree) -> GameRecord:
    where = f"{path}: game {number}"
    try:
        game = sgf.Sgf_game.from_coarse_game_tree(tree)
        root = game.get_root()
        black_setup, white_setup, _ = root.get_setup_stones()
        moves = []
        for node in game.get_main_sequence()[1:]:
            colour, point = node.get_move()
            if colour is not None:
                moves.append((colour, _move(point)))
        result = root.get("RE") if root.has_property("RE") else None
        return GameRecord(
            moves=moves,
            black=game.get_player_name("b") or "",
            white=game.get_player_name("w") or "",
            komi=game.get_komi(),
            result=result,
            handicap_stones=sorted(_move(p) for p in black_setup),
            size=game.get_size(),
            comment=root.get("GC") if root.has_property("GC") else "",
            area=final_area(game),
        )
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None
