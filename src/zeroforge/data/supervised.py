"""SGF game records -> training positions, exactly as leelaz's `dump_supervised` builds them.

Owns the rules that decide which games are usable and how a game becomes records; the chunk
file itself is `formats.chunks`. What leelaz 0.17 does (Training.cpp, SGFTree.cpp), mirrored:

- usable: a Go game (GM absent or 1) on 19x19 whose RE starts with `B+` or `W+` (`B+R`,
  `W+Resign`, `B+` alone included) and does not contain `Time`; anything else is skipped.
- setup: the root's AB stones, then its AW stones, are played onto the board (captures
  apply); if HA > 0 and the root has no AB, the first child's AB are taken (a common bug of
  Go programs that leelaz works around; the move-less node then breaks the colour alternation,
  so both leelaz and this module skip such a game). Each setup stone passes the turn, so after
  AB white is to move, after AW black; PL overrides. The setup position has no history: it is
  the anchor, move number 0.
- one record per main-line move (passes included, one-hot policy, index 361 for pass), taken
  before the move; history planes t, t-1, ..., t-7 go back to the anchor and are empty beyond.
- winner: 1 if the side to move won the game, else -1.

Beside leelaz's records, a game annotated with its final area (TB/TW on its last node,
`formats.sgf`; `zeroforge annotate` writes them) gives two training-only targets per position
(`game_targets`): the final ownership of every point and the final score margin, both from the
side to move's view (+1 / positive: the side to move's), the margin being area(black) -
area(white) - komi, as GNU Go's `final_score` counts it.

Games that leelaz would choke on or silently mangle (moves that do not alternate, a move on an
occupied point, suicide, retaking a ko) raise `UnusableGame` and are counted by the caller.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sgfmill import boards, sgf

from zeroforge.formats.chunks import Positions
from zeroforge.formats.sgf import final_area, parse_collection, teacher
from zeroforge.formats.shards import MAX_CANDIDATES, Shard, no_teacher
from zeroforge.go.geometry import BOARD_SIZE, NUM_MOVES, NUM_POINTS, PASS
from zeroforge.go.planes import BLACK, HISTORY, STORED_PLANES, WHITE

EMPTY_POINT, BLACK_STONE, WHITE_STONE = 0, 1, 2  # board codes used while building planes
COLOUR_CODE = {"b": BLACK, "w": WHITE}  # sgfmill colour -> side-to-move code of the chunks
STONE = {BLACK: BLACK_STONE, WHITE: WHITE_STONE}


class UnusableGame(ValueError):
    """A game that dump_supervised would skip (or mangle); the message says why."""


@dataclass
class ConversionStats:
    games: int = 0  # usable games converted
    positions: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> count

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def game_winner(game: sgf.Sgf_game) -> int:
    """BLACK or WHITE from the RE property, by leelaz's rules; UnusableGame otherwise."""
    root = game.get_root()
    if not root.has_property("RE"):
        raise UnusableGame("no result (RE)")
    result = root.get("RE").strip()
    if "Time" in result:
        raise UnusableGame("result on time")
    if result.startswith("B+"):
        return BLACK
    if result.startswith("W+"):
        return WHITE
    raise UnusableGame(f"result {result!r} is not B+ or W+")


def _board_codes(board: boards.Board) -> np.ndarray:
    """sgfmill board -> uint8 [361] of EMPTY_POINT/BLACK_STONE/WHITE_STONE, index row*19+col."""
    code = {None: EMPTY_POINT, "b": BLACK_STONE, "w": WHITE_STONE}
    return np.array([code[c] for row in board.board for c in row], dtype=np.uint8)


def _setup(game: sgf.Sgf_game, board: boards.Board) -> int:
    """Place the root's setup stones as leelaz does; return the side to move."""
    root = game.get_root()
    black, white, _ = root.get_setup_stones()
    handicap = int(root.get("HA")) if root.has_property("HA") else 0
    if handicap > 0 and not black and len(root) > 0:
        black = root[0].get_setup_stones()[0]
    to_move = BLACK
    for colour, points in (("b", black), ("w", white)):
        for row, col in sorted(points):
            current = board.get(row, col)
            if current == colour:
                continue
            if current is not None:
                raise UnusableGame(f"setup stone on an occupied point {(row, col)}")
            board.play(row, col, colour)
            to_move = WHITE if colour == "b" else BLACK
    if root.has_property("PL"):
        to_move = COLOUR_CODE[root.get("PL")]
    return to_move


def _main_line_moves(game: sgf.Sgf_game, to_move: int) -> list[tuple[int, int | None]]:
    """(colour code, (row, col) or None for pass) of the main line, checked to alternate."""
    moves = []
    ended = False
    for number, node in enumerate(game.get_main_sequence()[1:], start=1):
        colour, point = node.get_move()
        if colour is None:
            ended = True  # a node without a move: allowed only after the last move
            continue
        if ended or COLOUR_CODE[colour] != to_move:
            raise UnusableGame(f"node {number}: moves do not alternate")
        moves.append((to_move, point))
        to_move = WHITE if to_move == BLACK else BLACK
    return moves


def _play_all(board: boards.Board, moves: list) -> list[np.ndarray]:
    """Play the moves with leelaz's legality (no occupied point, suicide or simple-ko retake);
    return the board after each move (the anchor board is the caller's)."""
    history, ko_point = [], None
    for number, (colour, point) in enumerate(moves, start=1):
        if point is not None:
            row, col = point
            if board.get(row, col) is not None or point == ko_point:
                raise UnusableGame(f"move {number}: illegal move at {point}")
            ko_point = board.play(row, col, "b" if colour == BLACK else "w")
            if board.get(row, col) is None:
                raise UnusableGame(f"move {number}: suicide at {point}")
        else:
            ko_point = None
        history.append(_board_codes(board))
    return history


def game_positions(game: sgf.Sgf_game) -> Positions:
    """The records leelaz's dump_supervised writes for one game. Raises UnusableGame."""
    root = game.get_root()
    if root.has_property("GM") and root.get("GM") != 1:
        raise UnusableGame("not a Go game (GM)")
    if game.get_size() != BOARD_SIZE:
        raise UnusableGame(f"board size {game.get_size()}")
    winner = game_winner(game)
    board = boards.Board(BOARD_SIZE)
    to_move = _setup(game, board)
    anchor = _board_codes(board)
    moves = _main_line_moves(game, to_move)
    if not moves:
        raise UnusableGame("no moves")
    boards_after = _play_all(board, moves)
    return _records(anchor, boards_after, moves, winner)


def game_targets(game: sgf.Sgf_game) -> Shard:
    """`game_positions` plus each position's final ownership (int8 [n,361]) and score margin
    (float32 [n]), side to move's view. Raises UnusableGame, also for a game without TB/TW."""
    positions = game_positions(game)
    area = final_area(game)
    if area is None:
        raise UnusableGame("no final area (TB/TW): run `zeroforge annotate` on it")
    black, white = area
    if set(black) & set(white) or PASS in black or PASS in white:
        raise UnusableGame("TB and TW overlap or hold a pass")
    ownership = np.zeros(NUM_POINTS, dtype=np.int8)
    ownership[black], ownership[white] = 1, -1
    margin = np.float32(len(black) - len(white) - game.get_komi())
    view = np.where(positions.side_to_move == BLACK, 1, -1).astype(np.int8)
    return Shard(
        positions,
        ownership=ownership[None, :] * view[:, None],
        score=(margin * view).astype(np.float32),
        **teacher_targets(game, view),
    )


def teacher_targets(game: sgf.Sgf_game, view: np.ndarray) -> dict[str, np.ndarray]:
    """The teacher fields of `formats.shards` for each main-line move of a game (`view`: +1
    where black is to move, -1 where white is), has_teacher 0 where a node has no ZM/ZS.
    Raises UnusableGame for a malformed one."""
    nodes = [
        (number, node)
        for number, node in enumerate(game.get_main_sequence()[1:], start=1)
        if node.get_move()[0] is not None
    ]
    judged = []
    for number, node in nodes:
        try:
            judged.append(teacher(node))
        except ValueError as exc:
            raise UnusableGame(f"node {number}: {exc}") from None
        if judged[-1] is not None and len(judged[-1][0]) > MAX_CANDIDATES:
            raise UnusableGame(f"node {number}: more than {MAX_CANDIDATES} teacher moves")
    fields = no_teacher(len(judged))
    for k, judgement in enumerate(judged):
        if judgement is None:
            continue
        candidates, black_lead = judgement
        fields["has_teacher"][k] = 1
        fields["teacher_moves"][k, : len(candidates)] = [move for move, _ in candidates]
        fields["teacher_values"][k, : len(candidates)] = [value for _, value in candidates]
        fields["teacher_score"][k] = black_lead * view[k]
    return fields


def _records(anchor: np.ndarray, boards_after: list, moves: list, winner: int) -> Positions:
    n = len(moves)
    # Board before move k is states[k + HISTORY - 1]; the HISTORY-1 empty boards in front make
    # history beyond the anchor empty, as leelaz leaves those planes zero.
    empty = np.zeros((HISTORY - 1, NUM_POINTS), dtype=np.uint8)
    states = np.concatenate([empty, np.stack([anchor, *boards_after[:-1]])])
    sides = np.array([colour for colour, _ in moves], dtype=np.uint8)
    own = np.where(sides == BLACK, BLACK_STONE, WHITE_STONE).astype(np.uint8)[:, None, None]
    opp = np.where(sides == BLACK, WHITE_STONE, BLACK_STONE).astype(np.uint8)[:, None, None]
    index = np.arange(n)[:, None] + (HISTORY - 1) - np.arange(HISTORY)[None, :]  # [n, 8]
    past = states[index]  # [n, 8, 361]: t, t-1, ..., t-7
    planes = np.empty((n, STORED_PLANES, NUM_POINTS), dtype=np.uint8)
    planes[:, :HISTORY] = past == own
    planes[:, HISTORY:] = past == opp
    policy = np.zeros((n, NUM_MOVES), dtype=np.float32)
    targets = [PASS if p is None else p[0] * BOARD_SIZE + p[1] for _, p in moves]
    policy[np.arange(n), targets] = 1.0
    won = np.where(sides == winner, 1, -1).astype(np.int8)
    return Positions(planes=planes, side_to_move=sides, policy=policy, winner=won)


def read_games(path: str | Path) -> list[sgf.Sgf_game]:
    """All games of an SGF file (a collection may hold several). ValueError names the file."""
    return parse_collection(path)


def convert_games(
    paths: Iterable[str | Path], stats: ConversionStats, targets: bool = False
) -> Iterator[Positions | Shard]:
    """Positions of every usable game in the files, one game at a time (with `targets`, a
    Shard with the ownership and score targets, games without them skipped); skips are counted
    in `stats.skipped` by reason (an unreadable file counts as one skip)."""
    for path in paths:
        try:
            games = read_games(path)
        except (OSError, ValueError) as exc:
            stats.skipped[f"unreadable file ({type(exc).__name__})"] += 1
            continue
        for game in games:
            try:
                positions = game_targets(game) if targets else game_positions(game)
            except UnusableGame as exc:
                stats.skipped[_reason_kind(str(exc))] += 1
                continue
            except ValueError as exc:  # sgfmill: malformed property values
                stats.skipped[f"malformed game ({exc})"] += 1
                continue
            stats.games += 1
            stats.positions += len(positions)
            yield positions


def _reason_kind(message: str) -> str:
    """Group messages such as `move 12: illegal move at (3, 4)` under `illegal move`."""
    text = message.split(": ", 1)[-1] if message.startswith(("move ", "node ")) else message
    return text.split(" at ")[0]
