"""Fixtures for the play tests: tiny GTP engines written as Python scripts to tmp_path.

`fake_engine(**behaviour)` returns the argv of a script run with sys.executable that speaks
enough GTP for a match. It plays the first free point in A1, B1, ... order and prints a
non-reply line before each genmove answer (as leelaz does). Behaviour, all counted in the
engine's own genmove commands: resign_after=N (then resigns), pass_after=N (then passes),
die_after=N (exits with code 3 after writing to stderr), die_if=PATH (dies at its first genmove
while PATH exists: a failure that a rerun no longer meets), hang_after=N (sleeps for an hour),
delay=S (seconds before each answer), moves=V1,V2,... (play these vertices in order, then
pass), stones=V1,V2,... (its answer to `fixed_handicap`, stones it then avoids). `{seed}`
may be passed as seed= so a match varies it (with vary=K: resign_after + seed%K).

`settled_game(dead_white_stone)`: the moves of a finished position GNU Go scores B+11.5.
"""

from __future__ import annotations

import sys

import pytest

from zeroforge.go.geometry import GTP_LETTERS, vertex_to_move

FAKE_ENGINE = r"""
import sys, time
opts = dict(a.split("=", 1) for a in sys.argv[1:])
big = 10**9
resign_after = int(opts.get("resign_after", big)) + int(opts.get("seed", 0)) % int(opts.get("vary", 1))
pass_after = int(opts.get("pass_after", big))
die_after = int(opts.get("die_after", -1))
if "die_if" in opts and __import__("os").path.exists(opts["die_if"]):
    die_after = 0
hang_after = int(opts.get("hang_after", -1))
delay = float(opts.get("delay", 0))
script = [v for v in opts.get("moves", "").split(",") if v]
letters = "ABCDEFGHJKLMNOPQRST"
points = [f"{c}{r}" for r in range(1, 20) for c in letters]
occupied, genmoves = set(), 0
sys.stderr.write("fake engine started\n")
for line in sys.stdin:
    words = line.split()
    if not words:
        continue
    if words[0] == "quit":
        print("=\n", flush=True)
        break
    if words[0] == "genmove":
        if genmoves == die_after:
            sys.stderr.write(f"fake engine dying after {genmoves} moves\n")
            sys.stderr.flush()
            sys.exit(3)
        if genmoves == hang_after:
            sys.stderr.write("fake engine hanging\n")
            sys.stderr.flush()
            time.sleep(3600)
        time.sleep(delay)
        genmoves += 1
        if "moves" in opts:
            reply = script[genmoves - 1] if genmoves <= len(script) else "pass"
        elif genmoves > resign_after:
            reply = "resign"
        elif genmoves > pass_after:
            reply = "pass"
        else:
            reply = next(p for p in points if p not in occupied)
            occupied.add(reply)
        print("thinking... (not a GTP reply)")
        print(f"= {reply}\n", flush=True)
    elif words[0] == "play":
        occupied.add(words[2].upper())
        print("=\n", flush=True)
    elif words[0] == "fixed_handicap":
        stones = [v for v in opts.get("stones", "").split(",") if v]
        occupied.update(stones)
        print(f"= {' '.join(stones)}\n", flush=True)
    elif words[0] == "bogus":
        print("? unknown command\n", flush=True)
    else:
        print("=\n", flush=True)
"""


@pytest.fixture
def fake_engine(tmp_path):
    script = tmp_path / "fake_engine.py"
    script.write_text(FAKE_ENGINE)

    def argv(**behaviour) -> list[str]:
        return [sys.executable, str(script)] + [f"{k}={v}" for k, v in behaviour.items()]

    return argv


@pytest.fixture
def fake_spec(fake_engine):
    """`gtp:` flag text of a fake engine, for --black/--white."""

    def spec(name: str = "", **behaviour) -> str:
        return (f"{name}=" if name else "") + "gtp:" + " ".join(fake_engine(**behaviour))

    return spec


EYES = {f"{c}{r}" for c in "BEHNQS" for r in (2, 5, 8, 11, 14, 17)} | {"E4", "E6"}


def _settled_game(dead_white_stone: bool) -> list[tuple[str, int]]:
    """A finished position: black fills columns A-K, white L-T, each around single-point
    eyes (so GNU Go has nothing left to play out); E4-E6 is a 3-point black eye, in which a
    lone white stone at E5 is dead. Area: black 190 points, white 171: B+11.5 at komi 7.5."""
    moves = []
    for col, letter in enumerate(GTP_LETTERS):
        for row in range(1, 20):
            vertex = f"{letter}{row}"
            if vertex not in EYES and not (dead_white_stone and vertex == "E5"):
                colour = "b" if col <= GTP_LETTERS.index("K") else "w"
                moves.append((colour, vertex_to_move(vertex)))
    if dead_white_stone:
        moves.append(("w", vertex_to_move("E5")))
    return moves


@pytest.fixture
def settled_game():
    return _settled_game
