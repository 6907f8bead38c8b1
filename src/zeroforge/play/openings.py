"""Where the chess games of a match start: a line of an opening book (EPD or FEN, one position
a line), then optionally a few uniformly random legal plies, both chosen from the match seed.

The shipped book `openings.epd` holds 46 common openings after 8 plies (the moves are in each
line's `c0` field); any EPD or FEN file can replace it. Opening k of a match is book line (seed + k) mod lines; a pairing plays each opening twice, once with each
engine as white (`play.match` gives both games of a pair the same k).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import chess

DEFAULT_BOOK = Path(__file__).with_name("openings.epd")


class BookError(ValueError):
    """A book that cannot be used; the message names the file and line."""


def load_book(path: str | Path) -> list[str]:
    """The FENs of a book: EPD or FEN lines; `#` comments and blank lines are skipped."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise BookError(f"{path}: cannot read the opening book ({err})") from None
    fens = []
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            board = _parse(text)
        except ValueError as err:
            raise BookError(f"{path}: line {number}: not a FEN or EPD position ({err})") from None
        if not board.is_valid() or board.is_game_over():
            raise BookError(f"{path}: line {number}: not a playable position: {text}")
        fens.append(board.fen())
    if not fens:
        raise BookError(f"{path}: no positions in the opening book")
    return fens


def _parse(text: str) -> chess.Board:
    fields = text.split()
    if len(fields) >= 6 and fields[4].isdigit() and fields[5].isdigit():
        return chess.Board(" ".join(fields[:6]))
    board, _ = chess.Board.from_epd(text)
    return board


@dataclass
class Openings:
    book: str | None = str(DEFAULT_BOOK)  # None: the start position
    random_plies: int = 0
    seed: int = 0
    _fens: list[str] = field(default_factory=list, repr=False)

    def __post_init__(self):
        if self.random_plies < 0:
            raise BookError("random_plies must not be negative")
        if self.book is not None:
            self.book = str(Path(self.book).expanduser().resolve())
            self._fens = load_book(self.book)

    def fingerprint(self) -> dict[str, Any]:
        """What a resumed match must agree on: the book's content, not its path."""
        digest = None
        if self.book is not None:
            digest = hashlib.sha256(Path(self.book).read_bytes()).hexdigest()
        return {"book_sha256": digest, "random_plies": self.random_plies, "seed": self.seed}

    def opening(self, index: int) -> tuple[str, list[str]]:
        """Opening `index`: the start FEN and the random plies (UCI) played from it."""
        fen = (
            self._fens[(self.seed + index) % len(self._fens)] if self._fens else chess.STARTING_FEN
        )
        rng = random.Random(f"{self.seed}:{index}")
        for attempt in range(100):
            board = chess.Board(fen)
            for _ in range(self.random_plies):
                if board.is_game_over():
                    break
                board.push(rng.choice(sorted(board.legal_moves, key=lambda m: m.uci())))
            if not board.is_game_over():
                return fen, [m.uci() for m in board.move_stack]
            rng = random.Random(f"{self.seed}:{index}:{attempt + 1}")
        raise BookError(f"opening {index}: random plies keep ending the game")
