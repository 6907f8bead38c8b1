"""`zeroforge weights check|export|import|init`: Leela Zero weights files at the command line.

- `check FILE`: validate every row (see `formats.lzweights`); print `blocks x filters` and
  the parameter count; exit 1 with the error.
- `export NET OUT`: a checkpoint (or weights file) -> Leela Zero v1 weights (`.gz` by name).
- `import LZFILE OUT_CHECKPOINT`: weights -> our checkpoint (`nn.checkpoint`), which
  `load_any_net`, `evaluate` and training initialisation read.
- `init --blocks B --filters F [--seed S] OUT`: an untrained net (PyTorch's initialisation,
  where training starts; BN statistics mean 0, variance 1), the same for the same seed.
"""

from __future__ import annotations

import argparse
import sys
import time


def _check(args) -> int:
    from zeroforge.formats.lzweights import read_weights

    weights = read_weights(args.file)
    print(
        f"{args.file}: {weights.blocks} x {weights.filters} (blocks x filters), "
        f"{weights.parameter_count:,} parameters, version {weights.version}"
    )
    return 0


def _export(args) -> int:
    from zeroforge.convert.lzweights import export_net
    from zeroforge.convert.nets import load_any_net

    start = time.perf_counter()
    net = load_any_net(args.net)
    export_net(net, args.out)
    print(f"wrote {args.out} ({net.blocks} x {net.filters}) in {time.perf_counter() - start:.2f} s")
    return 0


def _import(args) -> int:
    from zeroforge.convert.lzweights import load_net
    from zeroforge.nn.checkpoint import save_checkpoint

    net = load_net(args.lzfile)
    save_checkpoint(net, args.out, source=str(args.lzfile))
    print(f"wrote {args.out} ({net.blocks} x {net.filters}) from {args.lzfile}")
    return 0


def _init(args) -> int:
    import torch

    from zeroforge.convert.lzweights import export_net
    from zeroforge.nn.lznet import LZNet

    if args.blocks < 0 or args.filters < 1:
        raise ValueError(
            f"need --blocks >= 0 and --filters >= 1, got {args.blocks}, {args.filters}"
        )
    with torch.random.fork_rng(devices=[]):  # seeded without touching the caller's RNG
        torch.manual_seed(args.seed)
        net = LZNet(args.blocks, args.filters).eval()
    export_net(net, args.out)
    print(f"wrote {args.out} ({net.blocks} x {net.filters}, untrained, seed {args.seed})")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="zeroforge weights", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    check = sub.add_parser("check", help="validate a weights file")
    check.add_argument("file")
    check.set_defaults(run=_check)
    export = sub.add_parser("export", help="checkpoint -> Leela Zero weights (.txt or .gz)")
    export.add_argument("net", help="a zeroforge checkpoint (or a weights file)")
    export.add_argument("out")
    export.set_defaults(run=_export)
    imp = sub.add_parser("import", help="Leela Zero weights -> zeroforge checkpoint")
    imp.add_argument("lzfile")
    imp.add_argument("out")
    imp.set_defaults(run=_import)
    init = sub.add_parser("init", help="an untrained (seeded random) Leela Zero net")
    init.add_argument("--blocks", type=int, required=True, help="residual blocks")
    init.add_argument("--filters", type=int, required=True, help="filters per convolution")
    init.add_argument("--seed", type=int, default=0, help="torch seed (default 0)")
    init.add_argument("out", help="weights file to write (.txt, or .gz by name)")
    init.set_defaults(run=_init)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, OSError) as exc:
        print(f"zeroforge weights {args.action}: {exc}", file=sys.stderr)
        return 1
