"""One module per `zeroforge` subcommand, each with `main(argv) -> int`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping

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
