"""The one entry point: `zeroforge COMMAND ...`.

Each command lives in its own module under `zeroforge.commands` with a `main(argv) -> int`.
Only the chosen command's module is imported, so `zeroforge --help` stays instant and a
command never pays for another's imports (torch, matplotlib, ...).
"""

from __future__ import annotations

import importlib
import os
import sys

# OpenMP threads that spin while they wait take the CPU that the step's other thread, or another
# process, needs: on 2 shared cores (load average 4) a 2-thread NNUE step took 10x longer
# spinning than waiting passively. Set before torch loads OpenMP; the environment still wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

COMMANDS: dict[str, tuple[str, str]] = {
    "data": ("zeroforge.commands.data", "inspect or pack training data"),
    "bench": ("zeroforge.commands.bench", "measure throughput (--doc: update docs/PERFORMANCE.md)"),
    "weights": ("zeroforge.commands.weights", "check, export or import Leela Zero weights"),
    "evaluate": ("zeroforge.commands.evaluate", "raw network output for one position"),
    "train": ("zeroforge.commands.train", "train a network (Hydra overrides)"),
    "match": ("zeroforge.commands.match", "play a Go (GTP) or chess (UCI) match and rate it"),
    "selfplay": ("zeroforge.commands.selfplay", "self-play games with leelaz"),
    "sgf2chunks": ("zeroforge.commands.sgf2chunks", "convert SGF games to training chunks"),
    "gnugo-games": ("zeroforge.commands.gnugo_games", "GNU Go vs GNU Go games as data"),
    "annotate": ("zeroforge.commands.annotate", "write finished games' final areas (TB/TW)"),
    "ladder": ("zeroforge.commands.ladder", "rate Go nets against GNU Go levels (Elo, PNG)"),
    "compare": ("zeroforge.commands.compare", "compare training runs"),
    "analyze": ("zeroforge.commands.analyze", "analyse LZ or NNUE weights"),
    "nnue": ("zeroforge.commands.nnue", "Stockfish NNUE: convert, gensfen, export, check, relabel"),
}


def usage() -> str:
    lines = ["usage: zeroforge COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<12} {text}" for name, (_, text) in COMMANDS.items()]
    lines += ["", "`zeroforge COMMAND --help` for a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"zeroforge: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    try:
        status = int(module.main(rest) or 0)
        sys.stdout.flush()  # inside the try: a closed pipe shows up here for short output
        return status
    except BrokenPipeError:
        # The reader went away (`zeroforge evaluate ... | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
