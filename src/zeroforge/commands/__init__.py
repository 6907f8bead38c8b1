"""One module per `zeroforge` subcommand, each with `main(argv) -> int`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

Subcommands = Mapping[str, tuple[Callable[[list[str]], int], str]]


def dispatch(prog: str, description: str, subcommands: Subcommands, argv: list[str]) -> int:
    """Run `argv[0]` of `subcommands` ({name: (main, help text)}) on the rest of `argv`; each
    subcommand parses its own options, so only its module's imports are paid for."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    sub = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    for name, (_, text) in subcommands.items():
        sub.add_parser(name, help=text, add_help=False)
    if argv and argv[0] in subcommands:
        return subcommands[argv[0]][0](argv[1:])
    if not argv:
        parser.print_help(sys.stderr)
        return 2
    parser.parse_args(argv)  # --help, or an "invalid choice" error (exit 2)
    return 2


def report_missing(prog: str, paths: Iterable[Path]) -> bool:
    """Print one line naming the `paths` that do not exist; True when there are any."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        print(f"{prog}: no such file or directory: {', '.join(missing)}", file=sys.stderr)
    return bool(missing)
