"""`zeroforge match`: play a Go or chess match (or a gauntlet / round robin) and rate it.

    zeroforge match CONFIG.yaml [--out DIR] [--workers N] [--games N] [--json]
    zeroforge match --black SPEC --white SPEC --games N [--out DIR] [--max-moves N]
                    [--komi K] [--handicap N] [--move-timeout S]
                    [--sprt ELO0,ELO1[,ALPHA,BETA]] [--json]
    chess (UCI engines): [--book EPD | --no-book] [--random-plies N] [--seed S]
                    [--max-plies 400] [--resign-score CP [--resign-plies N]]
                    [--draw-score CP [--draw-plies N] [--draw-min-ply P]]

A SPEC is `gnugo:level=1`, `leelaz:weights=net.gz,playouts=50`, `gtp:COMMAND LINE`,
`stockfish:nodes=1000`, `stockfish:evalfile=net.nnue,nodes=1000`, `stockfish:use_nnue=false,
nodes=1000`, `uci:nodes=1000:COMMAND LINE` or an engine-spec YAML file (see
`zeroforge.play.specs`). With UCI engines the game is chess: openings from the shipped book
(`play/openings.epd`, each played with both colours) and/or random plies, PGNs in DIR/games,
scores (Stockfish internal units) for the optional adjudication. Go with `--handicap N` (2-9):
the --black player (in a config, the first of each pairing) is Black in every game and gets N
stones on GTP's fixed points, White moves first, komi defaults to 0.5 (see `play.go_game`).
Rerunning the same command resumes the match from DIR/results.jsonl. The summary goes to the terminal (or stdout as one JSON object
with --json) and to DIR/summary.json and DIR/summary.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from zeroforge.atomic import atomic_write_text as write_text
from zeroforge.play.chess_game import chess_settings
from zeroforge.play.interrupt import signals_stop
from zeroforge.play.match import Match, MatchError, load_match, unique_players, write_json_atomic
from zeroforge.play.ratings import Sprt
from zeroforge.play.results import ResultsError
from zeroforge.play.specs import SpecError, parse_flag
from zeroforge.play.summary import build_summary, footer, markdown, progress_text, rich_table


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="zeroforge match",
        description=__doc__.split("\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("config", nargs="?", type=Path, help="match config YAML")
    p.add_argument("--black", help="engine spec of the first player (black in even games)")
    p.add_argument("--white", help="engine spec of the second player")
    p.add_argument("--games", type=int, help="games per pairing (default 2)")
    p.add_argument("--out", type=Path, help="match directory (results, SGFs, summary)")
    p.add_argument("--workers", type=int, help="games in parallel (default: core count)")
    p.add_argument("--max-moves", type=int, help="move cap (default 600)")
    p.add_argument("--komi", type=float, help="komi (default 7.5; 0.5 with handicap)")
    p.add_argument(
        "--handicap", type=int, help="Go: stones for --black, Black every game (2-9; 0 even)"
    )
    p.add_argument("--move-timeout", type=float, help="seconds per move (default 120)")
    p.add_argument("--sprt", help="ELO0,ELO1[,ALPHA,BETA]: stop early when the SPRT decides")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    chess = p.add_argument_group("chess (UCI engines)")
    chess.add_argument("--book", help="opening book, EPD or FEN lines (default: the shipped one)")
    chess.add_argument("--no-book", action="store_true", help="start from the start position")
    chess.add_argument("--random-plies", type=int, help="random plies after the book line (0)")
    chess.add_argument("--seed", type=int, help="seed of the openings (0)")
    chess.add_argument("--max-plies", type=int, help="ply cap, a draw (400)")
    chess.add_argument("--resign-score", type=int, help="adjudicate a win at |score| >= this")
    chess.add_argument("--resign-plies", type=int, help="... on this many plies in a row (1)")
    chess.add_argument("--draw-score", type=int, help="adjudicate a draw at |score| <= this")
    chess.add_argument("--draw-plies", type=int, help="... on this many plies in a row (8)")
    chess.add_argument("--draw-min-ply", type=int, help="... from this ply on (80)")
    return p


CHESS_FLAGS = (
    "random_plies",
    "seed",
    "max_plies",
    "resign_score",
    "resign_plies",
    "draw_score",
    "draw_plies",
    "draw_min_ply",
)


def chess_overrides(args: argparse.Namespace) -> dict | None:
    """The chess flags given, as a `chess:` mapping (None when none was given)."""
    given = {k: getattr(args, k) for k in CHESS_FLAGS if getattr(args, k) is not None}
    if args.no_book:
        given["book"] = None
    elif args.book:
        given["book"] = str(Path(args.book).resolve())
    return given or None


def parse_sprt(text: str | None) -> Sprt | None:
    if not text:
        return None
    try:
        values = [float(v) for v in text.split(",")]
        return Sprt(*values)
    except (TypeError, ValueError) as err:
        raise MatchError(f"--sprt {text!r}: want ELO0,ELO1[,ALPHA,BETA] ({err})") from None


def build_match(args: argparse.Namespace) -> Match:
    sprt = parse_sprt(args.sprt)
    if args.config is not None:
        if args.black or args.white:
            raise MatchError("give a config file or --black/--white, not both")
        overrides = {
            "chess": chess_overrides(args),
            "games": args.games,
            "out": args.out,
            "workers": args.workers,
            "max_moves": args.max_moves,
            "komi": args.komi,
            "handicap": args.handicap,
            "move_timeout": args.move_timeout,
            "sprt": sprt,
        }
        return load_match(args.config, overrides)
    if not (args.black and args.white):
        raise MatchError("give a config file, or both --black SPEC and --white SPEC")
    players = unique_players([parse_flag(args.black), parse_flag(args.white)])
    names = list(players)
    chess = chess_settings(chess_overrides(args), "command line")
    options = {
        "games": args.games,
        "workers": args.workers,
        "max_moves": args.max_moves,
        "komi": args.komi,
        "handicap": args.handicap,
        "move_timeout": args.move_timeout,
    }
    return Match(
        players=players,
        sprt=sprt,
        out=args.out or Path("runs") / f"match-{names[0]}-vs-{names[1]}",
        **chess,
        **{k: v for k, v in options.items() if v is not None},
    )


def run(match: Match, console: Console) -> dict:
    from zeroforge.play.match import run_match

    columns = [
        TextColumn("games"),
        MofNCompleteColumn(),
        BarColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
    ]
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("", total=len(match.planned()))

        def on_result(records) -> None:
            summary = build_summary(match, records)
            progress.update(task, completed=len(records), description=progress_text(summary))

        records = run_match(match, on_result)
    summary = build_summary(match, records)
    write_json_atomic(match.out / "summary.json", summary)
    write_text(match.out / "summary.md", markdown(summary))
    return summary


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    console = Console(stderr=True)
    try:
        match = build_match(args)
        with signals_stop():  # Ctrl-C and SIGTERM (kill, timeout): games in flight dropped
            summary = run(match, console)
    except (MatchError, SpecError, ResultsError) as err:
        print(f"zeroforge match: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("zeroforge match: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(summary, sort_keys=True))
    else:
        Console().print(rich_table(summary))
        print("\n".join(footer(summary)))
        print(f"results, game records and summary in {match.out}")
    return 0
