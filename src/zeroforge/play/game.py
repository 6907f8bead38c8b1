"""What every game of a match shares, and the seam each game implements (`play.go_game`,
`play.chess_game`); `play.match` is the one driver, looking the match's game up in its table.

A game module provides one `MatchGame` (name, protocol, its own settings and their part of the
match fingerprint, and `play_game(match, planned_game, stop) -> record`); the types here are
what a game and the driver exchange: the planned game, the stop signal, the two ways a game
ends early.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from zeroforge.play.process import EngineFailure, EngineProcess

if TYPE_CHECKING:  # annotations only: the driver imports the games, never the reverse
    from zeroforge.play.match import Match


class MatchError(ValueError):
    """A match that cannot be run as asked (bad config, a different match in the directory)."""


class IllegalReply(RuntimeError):
    """An engine answered with something that is not a (legal) move."""


class GameAborted(Exception):
    """The match is stopping (Ctrl-C); the game is not recorded and will be played on rerun."""


@dataclass(frozen=True)
class PlannedGame:
    game: int
    black: str
    white: str
    round: int = 0  # index within its pairing: games 2k and 2k + 1 share a chess opening


class Stop:
    """Stops a match: games check it between moves, and engines under way are killed so a
    long `genmove` cannot hold up Ctrl-C."""

    def __init__(self):
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._engines: set[EngineProcess] = set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def set(self) -> None:
        with self._lock:
            self._event.set()
            engines = list(self._engines)
        for engine in engines:
            engine.kill()

    def watch(self, engine: EngineProcess) -> None:
        with self._lock:
            self._engines.add(engine)
        if self.is_set():
            engine.kill()

    def forget(self, engine: EngineProcess) -> None:
        with self._lock:
            self._engines.discard(engine)

    @contextlib.contextmanager
    def game(self, engines: Mapping[Any, EngineProcess]) -> Iterator[None]:
        """Around one game's moves: an engine that dies because the match is stopping ends the
        game as GameAborted (replayed on rerun), and the game's engines are closed at the end."""
        try:
            yield
        except EngineFailure:
            if self.is_set():
                raise GameAborted from None
            raise
        finally:
            for engine in engines.values():
                self.forget(engine)
                engine.close(timeout=2)


class MatchGame(Protocol):
    """One game as the match driver sees it."""

    name: str  # "go", "chess": `game` in a match config
    protocol: str  # the engines' protocol: "gtp", "uci"
    config_keys: tuple[str, ...]  # the keys of a match config that hold the game's settings

    def prepare(self, match: Match) -> None:
        """Fill in the game's default settings on a new match; check them."""

    def fingerprint(self, match: Match) -> dict[str, Any]:
        """The game's settings a resumed match must agree on (match.json)."""

    def settings(self, raw: Mapping[str, Any], where: Any) -> dict[str, Any]:
        """The game's fields of a `Match` from a match config (its `config_keys`); `where`
        (the config's path, or a phrase) starts error messages."""

    def play_game(self, match: Match, game: PlannedGame, stop: Stop) -> dict[str, Any]:
        """Play one game, write its record file, return its results line."""
