"""`zeroforge analyze NET... [--ref NET] [--out DIR] [--xz] [--sort-l1]`: weight statistics,
dead units, figures and permutation-invariant similarity of LZ weights files, checkpoints and
Stockfish .nnue nets (see zeroforge.analysis.report)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="zeroforge analyze",
        description="Analyse network weights: LZ weights files (text or .gz), checkpoints, "
        "Stockfish .nnue files (HalfKP, SFNNv5).",
    )
    parser.add_argument("nets", nargs="+", type=Path, metavar="NET")
    parser.add_argument("--ref", type=Path, help="compare every NET with this net")
    parser.add_argument(
        "--out", type=Path, default=Path("analysis"), help="report directory (default: ./analysis)"
    )
    parser.add_argument(
        "--xz",
        action="store_true",
        help="LZMA -9e size per tensor (slow: ~100 s for 47 MB; cached)",
    )
    parser.add_argument(
        "--cache-dir", type=Path, help="cache of xz sizes (default: ~/.cache/zeroforge/xz)"
    )
    parser.add_argument(
        "--sort-l1", action="store_true", help="order NNUE units by L1 norm in the weight images"
    )
    return parser.parse_args(argv)


def _xz_progress(loaded):
    from rich.progress import Progress

    total = sum(n.path.stat().st_size for n in loaded)
    progress = Progress(transient=True)
    task = progress.add_task("xz -9e", total=total)
    sizes = {name: v.nbytes for n in loaded for name, v in n.tensors.items()}
    return progress, lambda name: progress.advance(task, sizes.get(name, 0))


def main(argv: list[str]) -> int:
    args = parse(argv)
    from zeroforge.analysis.nets import NetLoadError, load_net
    from zeroforge.analysis.report import Options, analyze, write_report

    try:
        loaded = [load_net(path) for path in args.nets]
        ref = load_net(args.ref) if args.ref else None
    except NetLoadError as err:
        print(f"zeroforge analyze: {err}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    opts = Options(args.out, args.xz, args.sort_l1, args.cache_dir)
    progress = None
    if args.xz:
        progress, opts.progress = _xz_progress(loaded)
        progress.start()
    results = []
    try:
        for net in loaded:
            start = time.perf_counter()
            results.append(analyze(net, ref, opts))
            print(f"{net.path}: analysed in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    finally:
        if progress is not None:
            progress.stop()
    write_report(results, args.out)
    print(f"report: {args.out / 'report.md'}")
    return 0
