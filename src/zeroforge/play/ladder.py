"""A strength ladder: Go nets rated against GNU Go levels, with a finite Elo for every net.

Rungs are GNU Go at several levels (`gnugo-l0`, `gnugo-l1`, ...). Every net plays every rung,
neighbouring rungs play each other (that fixes the levels' spacing), and neighbouring nets of a
run play each other (that ties the nets to one another where GNU Go beats them all). Each
pairing is its own resumable match (`play.match`, `OUT/pairs/A--B/`); all games then go into one
Bradley-Terry fit (`ratings.fit_elo`), anchored at the first rung's level when it is level 1
(else the first rung) = 0 Elo. The fit gives each pair that met one virtual draw (as BayesElo),
so a net that lost every game still gets a finite Elo and a standard error; with few games that
Elo is mostly the prior's pull, and its interval says so.

Handicap rungs (`--levels 0,1,1h9`: `gnugo-l1-h9`) are GNU Go level L giving N stones: the
other player is Black with N stones in every game, komi 0.5 (`play.go_game`). Such a rung is
its own player in the fit, because its strength as an opponent is not level L's: whoever takes
the stones beats it with the logistic probability of elo(taker) - elo(rung), so elo(rung) is
what level L is worth to a player given N stones. Nets play it as they play every rung. It is
tied to the even rungs by `rung_games` games in which the lowest even rung takes the same N
stones from level L (`gnugo-l0` against `gnugo-l1-h9`), rated as a game between those two.
That link is lopsided (9 stones are worth far more than a level: GNU Go level 0 won 8 of 8
against level 1 giving 9 stones, each by resignation), so the rung's distance below the even
rungs rests mostly on its virtual draw. What the rung buys: a net that loses every even
game wins some handicap games, so its distance to the rung is measured, and its interval
carries the rung's own uncertainty through the fit.

A run's nets are its exports (train/callbacks.py: `nets/step-NNNNNNN.txt.gz`, then
`nets/final.txt.gz`); `step_of` reads the step from the name.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from zeroforge.atomic import atomic_write_text
from zeroforge.play.match import Match, run_match
from zeroforge.play.ratings import Z95, fit_elo
from zeroforge.play.scoring import black_margin
from zeroforge.play.specs import EngineSpec, make_spec

STEP_NAME = re.compile(r"^step-(\d+)\.txt\.gz$")
RUNG = re.compile(r"^(\d+)(?:h([2-9]))?$")  # `--levels` items: 1 (even) or 1h9 (9 stones)
FINAL_NAME = "final.txt.gz"
ANCHOR_LEVEL = 1  # GNU Go level 1 = 0 Elo when it is a rung (the project's yardstick)


@dataclass
class Ladder:
    nets: dict[str, Path]  # player name -> weights file, in step order
    levels: list[int]
    out: Path
    games: int = 4  # per net-rung pairing (both colours)
    rung_games: int = 4  # per pair of neighbouring rungs
    net_games: int = 2  # per pair of neighbouring nets
    visits: int = 1
    workers: int = 1
    max_moves: int = 600
    steps: dict[str, int | None] = field(default_factory=dict)
    handicaps: list[tuple[int, int]] = field(default_factory=list)  # (level, stones) rungs

    def __post_init__(self):
        if self.handicaps and not self.levels:
            raise ValueError("handicap rungs need an even rung to be tied to (e.g. 0,1h9)")

    def rungs(self) -> dict[str, tuple[int, int]]:
        """Rung name -> (GNU Go level, stones it gives): even rungs, then handicap rungs."""
        rungs = {rung_name(level): (level, 0) for level in self.levels}
        return rungs | {
            rung_name(level, stones): (level, stones) for level, stones in self.handicaps
        }

    def rung_names(self) -> list[str]:
        return list(self.rungs())

    def stones(self, name: str) -> int:
        """Handicap stones a game against player `name` is played with (0: even)."""
        return self.rungs().get(name, (0, 0))[1]

    def spec(self, name: str) -> EngineSpec:
        if name in self.nets:
            weights = str(self.nets[name])
            raw = {"kind": "leelaz", "weights": weights, "visits": self.visits, "resign": 0}
        else:
            raw = {"kind": "gnugo", "level": self.rungs()[name][0]}
        return make_spec({**raw, "name": name}, f"ladder player {name}")

    def pairings(self) -> list[tuple[str, str, int]]:
        """(A, B, games): A takes B's stones when B is a handicap rung."""
        rungs, nets = self.rung_names(), list(self.nets)
        even = [rung_name(level) for level in self.levels]
        pairs = [(a, b, self.rung_games) for a, b in itertools.pairwise(even)]
        pairs += [(even[0], r, self.rung_games) for r in rungs if self.stones(r)]
        pairs += [(n, r, self.games) for n in nets for r in rungs]
        pairs += [(a, b, self.net_games) for a, b in itertools.pairwise(nets)]
        return [(a, b, g) for a, b, g in pairs if g > 0]


def rung_name(level: int, stones: int = 0) -> str:
    return f"gnugo-l{level}" + (f"-h{stones}" if stones else "")


def parse_rungs(text: str) -> tuple[list[int], list[tuple[int, int]]]:
    """`0,1,1h9` -> even levels [0, 1] and handicap rungs [(1, 9)], each sorted, no repeats."""
    found = [RUNG.match(item.strip()) for item in text.split(",")]
    if not found or not all(found):
        raise ValueError(f"--levels {text!r}: want rungs like 0,1,1h9 (level L, hN: N stones 2-9)")
    rungs = {(int(m.group(1)), int(m.group(2) or 0)) for m in found}
    levels = sorted(level for level, stones in rungs if not stones)
    return levels, sorted((level, stones) for level, stones in rungs if stones)


def step_of(path: Path) -> int | None:
    """The training step of an exported net: from `step-N.txt.gz`, or for a run's
    `final.txt.gz` its config's `train.max_steps` (None when unknown)."""
    match = STEP_NAME.match(path.name)
    if match:
        return int(match.group(1))
    config = path.parent.parent / "config.yaml"
    if path.name == FINAL_NAME and config.is_file():
        steps = (yaml.safe_load(config.read_text()) or {}).get("train", {}).get("max_steps")
        return int(steps) if isinstance(steps, int) else None
    return None


def run_nets(run: Path) -> list[Path]:
    """A run's exported nets in step order (`final.txt.gz` last unless a step export is the
    same step), from `run/nets` or `run`."""
    folder = run / "nets" if (run / "nets").is_dir() else run
    steps = sorted((p for p in folder.iterdir() if STEP_NAME.match(p.name)), key=step_of)
    final = folder / FINAL_NAME
    if not final.exists() or (steps and step_of(final) == step_of(steps[-1])):
        return steps  # (a run whose last export step is its last step: the same net twice)
    return steps + [final]


def net_players(inputs: list[Path]) -> tuple[dict[str, Path], dict[str, int | None]]:
    """Player names for weights files and runs' nets: `RUN-step-N`, `RUN-final`, file stems."""
    nets, steps = {}, {}
    for item in inputs:
        paths = run_nets(item) if item.is_dir() else [item]
        if not paths:
            raise ValueError(f"{item}: no exported nets (nets/step-*.txt.gz, final.txt.gz)")
        for path in paths:
            stem = path.name.removesuffix(".gz").removesuffix(".txt")
            name = re.sub(r"[^\w.-]", "_", f"{item.name}-{stem}" if item.is_dir() else stem)
            if name in nets:
                raise ValueError(f"{path}: a second net named {name}")
            nets[name], steps[name] = path.resolve(), step_of(path)
    return nets, steps


def _pair_dir(ladder: Ladder, a: str, b: str) -> Path:
    return ladder.out / "pairs" / f"{a}--{b}"


def play(ladder: Ladder, on_pair=None) -> list[dict[str, Any]]:
    """Play (or resume) every pairing; all game records."""
    records = []
    for a, b, games in ladder.pairings():
        match = Match(
            players={a: ladder.spec(a), b: ladder.spec(b)},
            out=_pair_dir(ladder, a, b),
            games=games,
            handicap=ladder.stones(b),
            max_moves=ladder.max_moves,
            workers=ladder.workers,
        )
        if on_pair:
            on_pair(a, b, games)
        records += [r for r in run_match(match) if not r.get("error")]
    return records


def rate(ladder: Ladder, records: list[dict[str, Any]]) -> dict[str, Any]:
    """The Bradley-Terry fit of every game: per player Elo, 95 % interval, games, score."""
    rungs = ladder.rung_names()
    anchor = f"gnugo-l{ANCHOR_LEVEL}" if f"gnugo-l{ANCHOR_LEVEL}" in rungs else rungs[0]
    names = [anchor] + [n for n in rungs + list(ladder.nets) if n != anchor]
    games = [
        (r["black"], r["white"], 0.5 if r["winner"] is None else float(r["winner"] == r["black"]))
        for r in records
    ]
    fitted = fit_elo(names, games) if games else {n: (0.0, None) for n in names}
    players = {}
    for name in names:
        own = [(s if a == name else 1 - s) for a, b, s in games if name in (a, b)]
        elo, error = fitted[name]
        half = None if error is None else Z95 * error
        margins = [_margin(r, name) for r in records if name in (r["black"], r["white"])]
        margins = [m for m in margins if m is not None and name in ladder.nets]
        players[name] = {
            "kind": "net" if name in ladder.nets else "gnugo",
            "handicap": ladder.stones(name) or None,  # stones this rung gives
            "step": ladder.steps.get(name),
            "games": len(own),
            "score": sum(own) / len(own) if own else None,
            "elo": elo,
            "elo_95": half,
            # a net's mean margin in points against the rungs: what moves while it loses all
            "margin_vs_gnugo": sum(margins) / len(margins) if margins else None,
        }
    return {"anchor": anchor, "games": len(games), "players": players}


def _margin(record: dict[str, Any], name: str) -> float | None:
    """Points by which `name` won (negative: lost) an even game against a GNU Go rung; None for
    a game between nets, a handicap game, a game without a result or a resignation."""
    opponent = record["white"] if record["black"] == name else record["black"]
    even = opponent.startswith("gnugo-l") and not record.get("handicap")
    if not even or not record.get("result"):
        return None
    margin = black_margin(record["result"])
    if margin is None:
        return None
    return margin if record["black"] == name else -margin


def markdown(table: dict[str, Any]) -> str:
    lines = [
        f"Elo (Bradley-Terry, {table['games']} games; {table['anchor']} = 0, 95 % interval)",
        "",
        "| player | games | score | Elo | mean margin vs even GNU Go |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in table["players"].items():
        score = "-" if row["score"] is None else f"{row['score']:.2f}"
        half = "" if row["elo_95"] is None else f" ± {row['elo_95']:.0f}"
        margin = row.get("margin_vs_gnugo")
        margin = "-" if margin is None else f"{margin:+.1f}"
        lines.append(f"| {name} | {row['games']} | {score} | {row['elo']:.0f}{half} | {margin} |")
    if any(row.get("handicap") for row in table["players"].values()):
        lines += [
            "",
            "`gnugo-lL-hN`: GNU Go level L giving N stones (its opponent is Black with N stones "
            "every game, komi 0.5); its Elo is what level L is worth to a player taking N stones.",
        ]
    return "\n".join(lines) + "\n"


def write_results(ladder: Ladder, table: dict[str, Any]) -> list[Path]:
    """OUT/ladder.json and OUT/ladder.md (the Elo-vs-steps figure: analysis/figures.py)."""
    written = [ladder.out / "ladder.json", ladder.out / "ladder.md"]
    atomic_write_text(written[0], json.dumps(table, indent=2) + "\n")
    atomic_write_text(written[1], markdown(table))
    return written
