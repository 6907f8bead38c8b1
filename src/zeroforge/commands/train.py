"""`zeroforge train [--cfg job] KEY=VALUE ...`: compose the Hydra config and train.

The config groups ship inside the package (zeroforge/conf). Hydra's compose API is used, so
Hydra neither changes the working directory nor writes `outputs/` folders: everything a run
writes goes to `out_dir`.
"""

from __future__ import annotations

import argparse
import re
import sys

EPILOG = """\
config groups (pick one with GROUP=NAME):
  network   2x16 6x64 10x128 15x192 20x256 40x256 nf6x64 nf10x128 (Go)
            sfnnv5 (chess: Stockfish 15.1's NNUE; sets optim=ranger_nnue data=chess ...)
  optim     sgd adamw ranger ranger_nnue
  schedule  flat warmup step cosine_tail warmup_cosine
  init      default nodchip
  averaging ema swa none
  data      default (LZ chunks) chess (.binpack/.bin/.plain)
  kd        default (kd.teachers=[NET,...] kd.alpha=0.5 kd.temperature=2: distillation)
  value     default (value.q_ratio=0.5: value target (1-r)*z + r*q, q from data or teachers)
any value can be overridden: optim.lr=0.02 data.batch_size=256 train.max_steps=1000

example:
  zeroforge train network=6x64 data.train=data/sample train.max_steps=1000 out_dir=runs/a
  zeroforge train network=sfnnv5 data.train=data/sample/chess/sf15-d6.binpack \
      data.val=VAL.binpack out_dir=runs/nnue    (nets/final.nnue loads in Stockfish 15.1)
  zeroforge train ... resume=runs/a/checkpoints/last.ckpt
      (the same command again into an out_dir that holds a run continues it, as resume= does)
  zeroforge train --cfg job network=10x128   (print the resolved config and exit)
"""


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="zeroforge train",
        description="Train a Leela Zero network from chunks or a Stockfish NNUE network from "
        "Stockfish training data (Lightning + Hydra).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--cfg", choices=["job"], help="print the composed config and exit")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="Hydra overrides")
    return parser.parse_args(argv)


def compose_config(overrides: list[str]):
    """The primary config (conf/config.yaml) with the command-line overrides applied."""
    from hydra import compose, initialize_config_module

    with initialize_config_module(config_module="zeroforge.conf", version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


# How torch's DataLoader re-raises an error of a worker process (torch/_utils.py
# ExceptionWrapper): as the same class when it can be built from one message, else as a
# RuntimeError, the message being the worker's whole traceback in either case.
_WORKER_ERROR = re.compile(r"Caught (\w+) in DataLoader worker process \d+\.\nOriginal Traceback")
USER_ERRORS = (FileNotFoundError, ValueError)  # bad input or config: one line, no traceback


def user_error_message(error: BaseException) -> str | None:
    """The one-line message of a bad-input error (a worker's too, without its traceback), or
    None for an error that is a bug (its traceback is then shown)."""
    match = _WORKER_ERROR.match(str(error))
    if match is None:
        return str(error) if isinstance(error, USER_ERRORS) else None
    # the traceback's last entry is "module.Class: message" (the message may hold newlines)
    text, name = str(error), match.group(1)
    found = list(re.finditer(rf"^((?:\w+\.)*){name}: ", text, re.MULTILINE))
    if not found:
        return None
    last = found[-1]
    original = getattr(sys.modules.get(last.group(1)[:-1] or "builtins"), name, None)
    if not (isinstance(original, type) and issubclass(original, USER_ERRORS)):
        return None
    return text[last.end() :].strip()


def main(argv: list[str]) -> int:
    args = parse(argv)
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        cfg = compose_config(args.overrides)
        if args.cfg == "job":
            print(OmegaConf.to_yaml(cfg, resolve=True), end="")
            return 0
        missing = sorted(OmegaConf.missing_keys(cfg))
        if missing:
            print(
                f"zeroforge train: missing required value(s): {', '.join(missing)}", file=sys.stderr
            )
            return 1
    except (HydraException, OmegaConfBaseException) as error:
        print(f"zeroforge train: bad config: {error}", file=sys.stderr)
        return 1
    from zeroforge.train.recipe import run

    try:
        final = run(cfg)
    except Exception as error:
        message = user_error_message(error)
        if message is None:
            raise
        print(f"zeroforge train: {message}", file=sys.stderr)
        return 1
    if final is not None:  # (the other processes of a multi-process run print nothing)
        print(
            f"final network: {final}" if final.exists() else "final network: none (not exportable)"
        )
    return 0
