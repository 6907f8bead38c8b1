"""How a chess game between engines ends: the rules (python-chess: checkmate, stalemate,
threefold repetition, the fifty-move rule, insufficient material), a ply cap, and optional
adjudication by the engines' scores (resign when one side is clearly lost for a few plies,
draw when both hover around zero late in the game). Used by `gensfen` and by chess matches.

Scores are Stockfish internal units from the side to move (`play.uci.Score.value`).
"""

from __future__ import annotations

from dataclasses import dataclass

import chess

DEFAULT_MAX_PLIES = 400  # nodchip's gensfen write_maxply


@dataclass(frozen=True)
class Ending:
    result: str  # PGN result: "1-0", "0-1", "1/2-1/2"
    reason: str  # checkmate, stalemate, repetition, fifty_moves, insufficient_material,
    #              max_plies, resign_score, draw_score

    @property
    def winner(self) -> bool | None:
        """chess.WHITE, chess.BLACK, or None for a draw."""
        return {"1-0": chess.WHITE, "0-1": chess.BLACK}.get(self.result)

    def for_side(self, side: bool) -> int:
        """1 / 0 / -1: the result from `side`'s view (the `result` of a training record)."""
        return 0 if self.winner is None else (1 if self.winner == side else -1)


DRAW = "1/2-1/2"


def legal_move(board: chess.Board, uci: str | None, name: str, error: type[Exception]):
    """The legal move engine `name` named in its `bestmove`; `error` when it names none."""
    try:
        move = chess.Move.from_uci(uci or "")
    except ValueError:
        move = None
    if move is None or move not in board.legal_moves:
        raise error(f"{name} answered bestmove {uci!r}, not a legal move in {board.fen()}")
    return move


def rules_ending(board: chess.Board) -> Ending | None:
    """The game is over by the rules in this position (draws as claimable: threefold
    repetition and the fifty-move rule end the game at once, as engines' matches do)."""
    if board.is_checkmate():
        return Ending("0-1" if board.turn == chess.WHITE else "1-0", "checkmate")
    if board.is_stalemate():
        return Ending(DRAW, "stalemate")
    if board.is_insufficient_material():
        return Ending(DRAW, "insufficient_material")
    if board.halfmove_clock >= 100:
        return Ending(DRAW, "fifty_moves")
    if board.is_repetition(3):
        return Ending(DRAW, "repetition")
    return None


@dataclass
class Adjudication:
    """The ply cap and the optional score rules (None switches a rule off).

    resign: |score| >= resign_score on `resign_plies` consecutive plies, all favouring the
    same side, ends the game for that side. draw: from ply `draw_min_ply` on, |score| <=
    draw_score on `draw_plies` consecutive plies ends it drawn."""

    max_plies: int = DEFAULT_MAX_PLIES
    resign_score: int | None = None
    resign_plies: int = 1
    draw_score: int | None = None
    draw_plies: int = 8
    draw_min_ply: int = 80

    def __post_init__(self):
        if self.max_plies < 1 or self.resign_plies < 1 or self.draw_plies < 1:
            raise ValueError("max_plies, resign_plies and draw_plies must be positive")
        if self.resign_score is not None and self.resign_score <= 0:
            raise ValueError("resign_score must be positive")
        if self.draw_score is not None and self.draw_score < 0:
            raise ValueError("draw_score must not be negative")

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    def tracker(self) -> ScoreTracker:
        return ScoreTracker(self)


class ScoreTracker:
    """Feeds one game's scores, ply by ply, into the score rules."""

    def __init__(self, rules: Adjudication):
        self.rules = rules
        self.resign_run = 0
        self.resign_side: bool | None = None
        self.draw_run = 0

    def add(self, board: chess.Board, score: int | None) -> Ending | None:
        """The score searched in `board` (side to move's view; None: no score)."""
        rules = self.rules
        if score is None:
            self.resign_run = self.draw_run = 0
            return None
        if rules.resign_score is not None:
            if abs(score) >= rules.resign_score:
                side = board.turn if score > 0 else not board.turn
                self.resign_run = self.resign_run + 1 if side == self.resign_side else 1
                self.resign_side = side
                if self.resign_run >= rules.resign_plies:
                    return Ending("1-0" if side == chess.WHITE else "0-1", "resign_score")
            else:
                self.resign_run, self.resign_side = 0, None
        if rules.draw_score is not None and board.ply() >= rules.draw_min_ply:
            self.draw_run = self.draw_run + 1 if abs(score) <= rules.draw_score else 0
            if self.draw_run >= rules.draw_plies:
                return Ending(DRAW, "draw_score")
        return None

    def cap(self, plies: int) -> Ending | None:
        """The ply cap, checked after `plies` plies have been played."""
        return Ending(DRAW, "max_plies") if plies >= self.rules.max_plies else None
