"""A UCI client: one chess engine process (`play.process`), the handshake (`uci` ... `uciok`,
options checked against the ones the engine lists, `isready` ... `readyok`), positions, and
searches that always end on their `bestmove` (docs/ENGINES.md#stockfish: Stockfish aborts a search with a bogus
move when `quit` arrives first, so nothing is sent while a search runs).

Scores: UCI prints `score cp N` or `score mate N` (moves, negative when the side to move is
mated), optionally `lowerbound`/`upperbound`; `Score.value()` maps them back to Stockfish's
internal units, which is what Stockfish's training data holds. Stockfish 15.1 prints
cp = v * 100 / 361 (truncated; uci.h `NormalizeToPawnValue`), so v is recovered to within 3
units (the middle of the values that print as that cp). Mate in N moves is VALUE_MATE - (2N - 1) plies, mated in N is -VALUE_MATE + 2N.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Any

from zeroforge.chess.records import (  # noqa: F401  (VALUE_MATE, VALUE_NONE: re-exported)
    NORMALIZE_TO_PAWN_VALUE,
    VALUE_MATE,
    VALUE_NONE,
)
from zeroforge.play.process import EngineDied, EngineProcess

STARTUP_TIMEOUT = 60.0
CHATTER_LINES = 20


class UCIError(RuntimeError):
    """The engine refused something or answered out of protocol."""


@dataclass(frozen=True)
class Score:
    kind: str  # "cp" or "mate"
    amount: int  # centipawns, or moves to mate (negative: the side to move is mated)
    bound: str | None = None  # "lowerbound" / "upperbound" for a fail-high/low line

    def value(self, pawn_value: int = NORMALIZE_TO_PAWN_VALUE) -> int:
        """Stockfish's internal value, side to move's view (mate: VALUE_MATE minus plies)."""
        if self.kind == "mate":
            if self.amount > 0:
                return VALUE_MATE - (2 * self.amount - 1)
            return -VALUE_MATE + 2 * -self.amount
        if self.amount == 0:
            return 0
        # the middle of the values that print as this cp (C++ division truncates to zero)
        sign = 1 if self.amount > 0 else -1
        return sign * round((abs(self.amount) + 0.5) * pawn_value / 100)

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}" + (f" {self.bound}" if self.bound else "")


@dataclass
class SearchResult:
    bestmove: str | None  # UCI move; None when the engine answered `(none)` (no legal move)
    ponder: str | None = None
    score: Score | None = None  # of the last `info` line with a score (multipv 1)
    depth: int | None = None
    nodes: int | None = None
    pv: list[str] = field(default_factory=list)


def parse_info(line: str) -> dict[str, Any]:
    """The fields of one `info ...` line: ints for depth/seldepth/multipv/nodes/nps/time/...,
    `score` as a Score, `pv` as a list, `string` as the rest of the line."""
    tokens = line.split()[1:]
    info: dict[str, Any] = {}
    i = 0
    while i < len(tokens):
        key = tokens[i]
        if key == "string":
            info["string"] = " ".join(tokens[i + 1 :])
            break
        if key == "pv":
            info["pv"] = tokens[i + 1 :]
            break
        if key == "score" and i + 2 < len(tokens) and tokens[i + 1] in ("cp", "mate"):
            bound = None
            if i + 3 < len(tokens) and tokens[i + 3] in ("lowerbound", "upperbound"):
                bound = tokens[i + 3]
            info["score"] = Score(tokens[i + 1], int(tokens[i + 2]), bound)
            i += 4 if bound else 3
            continue
        if i + 1 < len(tokens):
            try:
                info[key] = int(tokens[i + 1])
            except ValueError:
                info[key] = tokens[i + 1]
        i += 2
    return info


class UCIEngine(EngineProcess):
    """`UCIEngine(argv, options={"Threads": 1})`: started, handshaken, options set, ready."""

    def __init__(
        self,
        argv: list[str],
        name: str | None = None,
        options: dict[str, Any] | None = None,
        startup_timeout: float = STARTUP_TIMEOUT,
        **kwargs,
    ):
        super().__init__(argv, name=name, **kwargs)
        self._chatter: collections.deque[str] = collections.deque(maxlen=CHATTER_LINES)
        self.id_name = ""
        self.options: dict[str, str] = {}  # lowercase name -> name as the engine spells it
        try:
            self._handshake(startup_timeout)
            for key, value in (options or {}).items():
                self.setoption(key, value)
            self.isready(startup_timeout)
        except BaseException:
            self.close(timeout=1)
            raise

    def died(self, what: str) -> EngineDied:
        err = super().died(what)
        if self._chatter:  # Stockfish prints its fatal errors as `info string ERROR: ...`
            chatter = "\n".join(self._chatter)
            return EngineDied(f"{err}\nlast info strings:\n{chatter}", self.name, err.stderr_tail)
        return err

    def _read(self, command: str, deadline: float | None, timeout: float | None) -> str:
        line = self.next_line(command, timeout, deadline)
        if line.startswith("info string") or not line.startswith(("info", "option", "id")):
            if line.strip():
                self._chatter.append(line)
        return line

    def _handshake(self, timeout: float) -> None:
        self.write_line("uci")
        deadline = self.deadline(timeout)
        while True:
            line = self._read("uci", deadline, timeout)
            if line.strip() == "uciok":
                return
            if line.startswith("id name "):
                self.id_name = line[len("id name ") :].strip()
            elif line.startswith("option name "):
                name = line[len("option name ") :].split(" type ")[0].strip()
                self.options[name.lower()] = name

    def setoption(self, name: str, value: Any) -> None:
        """`setoption name NAME value VALUE`; the name must be one the engine listed."""
        known = self.options.get(str(name).lower())
        if known is None:
            raise UCIError(
                f"{self.name}: no UCI option {name!r}; it has: {', '.join(self.options.values())}"
            )
        if isinstance(value, bool):
            value = "true" if value else "false"
        self.write_line(f"setoption name {known} value {value}")

    def isready(self, timeout: float | None = STARTUP_TIMEOUT) -> None:
        self.write_line("isready")
        deadline = self.deadline(timeout)
        while self._read("isready", deadline, timeout).strip() != "readyok":
            pass

    def new_game(self, timeout: float | None = STARTUP_TIMEOUT) -> None:
        """`ucinewgame` (Stockfish clears its hash: a game no longer depends on the one before)."""
        self.write_line("ucinewgame")
        self.isready(timeout)

    def position(self, fen: str | None = None, moves: list[str] | tuple[str, ...] = ()) -> None:
        head = f"position fen {fen}" if fen else "position startpos"
        self.write_line(head + (" moves " + " ".join(moves) if moves else ""))

    def go(self, limits: dict[str, int], timeout: float | None = 60.0) -> SearchResult:
        """`go nodes N` / `go depth N` / `go movetime MS` ...; waits for `bestmove`."""
        command = "go " + " ".join(f"{k} {int(v)}" for k, v in limits.items())
        self.write_line(command)
        deadline = self.deadline(timeout)
        result = SearchResult(bestmove=None)
        while True:
            line = self._read(command, deadline, timeout)
            if line.startswith("bestmove"):
                parts = line.split()
                if len(parts) < 2:
                    raise UCIError(f"{self.name}: {command!r} ended with {line!r}")
                result.bestmove = None if parts[1] in ("(none)", "0000") else parts[1]
                if len(parts) >= 4 and parts[2] == "ponder":
                    result.ponder = parts[3]
                return result
            if line.startswith("info") and " score " in line:
                info = parse_info(line)
                if info.get("multipv", 1) == 1 and "score" in info:
                    result.score = info["score"]
                    result.depth = info.get("depth", result.depth)
                    result.nodes = info.get("nodes", result.nodes)
                    result.pv = info.get("pv", result.pv)
