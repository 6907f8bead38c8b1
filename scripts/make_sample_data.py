"""Make the shipped sample data in data/sample/ with the real engines (rerunnable).

1. GNU Go vs GNU Go: two `gnugo --mode gtp --level 1 --chinese-rules --seed S` processes per
   game (distinct seeds per engine and game: GNU Go's default seed is the clock, docs/ENGINES.md#gnu-go),
   komi 7.5, until two passes; black's engine scores it (`final_score`, dead stones removed).
   The games are written as one SGF collection and turned into chunks by leelaz
   `dump_supervised` (one one-hot record per move).
2. leelaz self-play with a random 2x16 network (torch seed fixed, exported by
   formats.lzweights): autogtp's options `-m 30 -n -d -r 1 -s SEED -p 20`, one process per game
   playing both colours until two passes or a resignation, scored by GNU Go (leelaz's own
   final_score keeps dead stones), then `dump_training WINNER FILE` -> FILE.0.gz.

leelaz traps handled (docs/ENGINES.md#leelaz): it lowercases GTP arguments, so every path it sees is in a
lowercase temporary directory; it aborts on an empty dump, so only finished games are dumped.

    .venv/bin/python scripts/make_sample_data.py [--out data/sample] [--gnugo-games 8]
                                                 [--selfplay-games 6] [--workers 2]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from zeroforge.go.geometry import GTP_LETTERS
from zeroforge.play.engines import engine_path
from zeroforge.play.gtp import GTPEngine

KOMI = 7.5
MAX_MOVES = 1000  # random nets rarely pass; games end far earlier in practice
GNUGO_SEED_BASE = 1000  # game g: black seed 1000 + 2g, white 1001 + 2g
SELFPLAY_SEED_BASE = 500
SELFPLAY_PLAYOUTS = 20
NET_SEED, NET_BLOCKS, NET_FILTERS = 2026, 2, 16


def gnugo(seed: int) -> GTPEngine:
    argv = [
        engine_path("gnugo"),
        "--mode",
        "gtp",
        "--level",
        "1",
        "--chinese-rules",
        "--seed",
        str(seed),
    ]
    engine = GTPEngine(argv)
    engine.send("boardsize 19")
    engine.send(f"komi {KOMI}")
    engine.send("clear_board")
    return engine


def sgf_point(vertex: str) -> str:
    if vertex.lower() == "pass":
        return ""
    col = GTP_LETTERS.index(vertex[0].upper())
    rank = int(vertex[1:])
    return chr(ord("a") + col) + chr(ord("a") + 19 - rank)


def sgf_game(moves: list[tuple[str, str]], result: str, black: str, white: str) -> str:
    body = "".join(f";{c.upper()}[{sgf_point(v)}]" for c, v in moves)
    return f"(;GM[1]FF[4]SZ[19]KM[{KOMI}]RU[Chinese]PB[{black}]PW[{white}]RE[{result}]{body})\n"


def play_out(engines: dict[str, GTPEngine], shared: bool) -> tuple[list, str | None]:
    """Alternate genmoves until two passes or a resignation; the mover's reply is played on
    the other engine unless one engine plays both colours (`shared`)."""
    moves, passes, colour = [], 0, "b"
    while len(moves) < MAX_MOVES:
        reply = engines[colour].send(f"genmove {colour}", timeout=300).strip().lower()
        if reply == "resign":
            return moves, ("W" if colour == "b" else "B") + "+R"
        other = "w" if colour == "b" else "b"
        if not shared:
            engines[other].send(f"play {colour} {reply}")
        moves.append((colour, reply))
        passes = passes + 1 if reply == "pass" else 0
        if passes == 2:
            break
        colour = other
    return moves, None


def score_with_gnugo(moves: list, seed: int) -> str:
    scorer = gnugo(seed)
    try:
        for colour, vertex in moves:
            scorer.send(f"play {colour} {vertex}")
        return scorer.send("final_score", timeout=300)
    finally:
        scorer.close()


def gnugo_game(g: int) -> tuple[str, int, str]:
    seeds = GNUGO_SEED_BASE + 2 * g, GNUGO_SEED_BASE + 2 * g + 1
    engines = {"b": gnugo(seeds[0]), "w": gnugo(seeds[1])}
    try:
        moves, result = play_out(engines, shared=False)
        result = result or engines["b"].send("final_score", timeout=300)
    finally:
        for engine in engines.values():
            engine.close()
    names = [f"GNU Go 3.8 level 1 seed {s}" for s in seeds]
    return sgf_game(moves, result, *names), len(moves), result


def leelaz_argv(weights: Path, seed: int) -> list[str]:
    return [
        engine_path("leelaz"),
        "--cpu-only",
        "-g",
        "--noponder",
        "-q",
        "-t",
        "1",
        "-w",
        str(weights),
        "-p",
        str(SELFPLAY_PLAYOUTS),
        "-m",
        "30",
        "-n",
        "-d",
        "-r",
        "1",
        "-s",
        str(seed),
    ]


def selfplay_game(i: int, weights: Path, workdir: Path, out: Path) -> tuple[int, str]:
    seed = SELFPLAY_SEED_BASE + i
    leelaz = GTPEngine(leelaz_argv(weights, seed))
    try:
        moves, result = play_out({"b": leelaz, "w": leelaz}, shared=True)
        result = result or score_with_gnugo(moves, seed)
        winner = result[:1].lower()
        if winner not in ("b", "w") or not moves:
            raise RuntimeError(f"self-play game {i}: no winner ({result!r}), not dumped")
        leelaz.send(f"dump_training {winner} {workdir}/selfplay-{i:03d}", timeout=120)
    finally:
        leelaz.close()
    name = f"leelaz 0.17 random {NET_BLOCKS}x{NET_FILTERS} -p {SELFPLAY_PLAYOUTS} seed {seed}"
    (out / f"selfplay-{i:03d}.sgf").write_text(sgf_game(moves, result, name, name))
    shutil.move(workdir / f"selfplay-{i:03d}.0.gz", out / f"selfplay-{i:03d}.0.gz")
    return len(moves), result


def random_weights(workdir: Path) -> Path:
    import torch

    from zeroforge.convert.lzweights import export_net
    from zeroforge.nn.lznet import LZNet

    torch.manual_seed(NET_SEED)
    path = workdir / f"random-{NET_BLOCKS}x{NET_FILTERS}.txt"
    export_net(LZNet(blocks=NET_BLOCKS, filters=NET_FILTERS).eval(), path)
    return path


def make_gnugo_part(out: Path, games: int, workers: int, workdir: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(gnugo_game, range(games)))
    for g, (_, n, result) in enumerate(results):
        print(f"gnugo game {g}: {n} moves, {result}", flush=True)
    collection = "".join(sgf for sgf, _, _ in results)
    (out / "gnugo-games.sgf").write_text(collection)
    (workdir / "games.sgf").write_text(collection)
    leelaz = GTPEngine(
        [
            engine_path("leelaz"),
            "--cpu-only",
            "-g",
            "--noponder",
            "-q",
            "-w",
            str(random_weights(workdir)),
        ]
    )
    try:
        leelaz.send(f"dump_supervised {workdir}/games.sgf {workdir}/supervised", timeout=600)
    finally:
        leelaz.close()
    shutil.move(workdir / "supervised.0.gz", out / "supervised.0.gz")


def make_selfplay_part(out: Path, games: int, workers: int, workdir: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    weights = random_weights(workdir)
    with ThreadPoolExecutor(workers) as pool:
        jobs = [pool.submit(selfplay_game, i, weights, workdir, out) for i in range(games)]
        for i, job in enumerate(jobs):
            n, result = job.result()
            print(f"self-play game {i}: {n} moves, {result}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("data/sample"))
    parser.add_argument("--gnugo-games", type=int, default=8)
    parser.add_argument("--selfplay-games", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="zfsample", dir="/tmp"))  # lowercase for leelaz
    start = time.time()
    try:
        if args.gnugo_games:
            make_gnugo_part(args.out / "gnugo", args.gnugo_games, args.workers, workdir)
        if args.selfplay_games:
            make_selfplay_part(args.out / "selfplay", args.selfplay_games, args.workers, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"done in {time.time() - start:.0f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
