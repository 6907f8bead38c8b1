"""PNG figures of weights: NNUE input-weight images, LZ input filters, histograms, unit norms.

The NNUE image follows nnue-pytorch's visualizer: one box per transformer unit, |w| clipped at
NNUE_CLIP quantised steps. Inside a box, a grid of king positions (HalfKAv2_hm: the 32 king
buckets as the e-h half of the board after mirroring, rank 8 on top; HalfKP: the 64 king
squares), and in each king cell the piece planes as 8x8 boards side by side (HalfKAv2_hm: own P,
their P, own N, their N, B, b, R, r, Q, q, both kings; HalfKP the first ten). Units can be
sorted by L1 norm. With a reference net the same images show |w - w_ref|. All files are written
atomically (temporary file, then rename); matplotlib runs on the Agg backend.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from zeroforge.atomic import atomic_write_bytes  # noqa: E402
from zeroforge.chess.nnue_arch import SFNNV5  # noqa: E402
from zeroforge.formats.nnue import NnueNet  # noqa: E402

NNUE_CLIP = 64  # quantised steps at which |w| saturates in the image
BOX_GAP = 1  # pixels between unit boxes
COLORMAP = "viridis"
GAP_RGB = (255, 255, 255)
GAP_INDEX = 255
PNG_COMPRESS_LEVEL = 1  # large images: fast zlib level, files ~20 % larger
BINCOUNT_SPAN = 1 << 22  # the most values a bincount counts (32 MiB of int64)
HIST_BINS = 200


def atomic_png(path: Path, save) -> Path:
    """Call save(file_object) into memory, then write the bytes atomically onto `path`."""
    buffer = io.BytesIO()
    save(buffer)
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)


def _save_figure(fig, path: Path) -> Path:
    result = atomic_png(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    plt.close(fig)
    return result


# ---------------------------------------------------------------- NNUE input image


def _unit_boxes(net: NnueNet, values: np.ndarray) -> np.ndarray:
    """[features, units] -> [units, box_h, box_w] in board layout."""
    arch = net.arch
    units = values.shape[1]
    blocks = values.reshape(arch.king_buckets, -1, units)[:, arch.block_offset :, :]
    blocks = blocks.reshape(arch.king_buckets, arch.planes, 8, 8, units)[:, :, ::-1]
    if arch is SFNNV5:  # bucket = 4 * row_from_top + (3 - file_from_e)
        kings = blocks.reshape(8, 4, arch.planes, 8, 8, units)[:, ::-1]
    else:  # king square = 8 * rank + file, rank 8 on top
        kings = blocks.reshape(8, 8, arch.planes, 8, 8, units)[::-1]
    rows, cols = kings.shape[0], kings.shape[1]
    # (king row, king col, plane, square row, square col, unit) -> (unit, kr, sr, kc, plane, sc)
    boxes = kings.transpose(5, 0, 3, 1, 2, 4)
    return boxes.reshape(units, rows * 8, cols * arch.planes * 8)


def _tile(boxes: np.ndarray, per_row: int, fill) -> np.ndarray:
    """[n, h, w] -> one image, boxes in rows of `per_row`, BOX_GAP pixels of `fill` between."""
    n, h, w = boxes.shape
    rows = -(-n // per_row)
    canvas = np.full((rows * (h + BOX_GAP), per_row * (w + BOX_GAP)), fill, boxes.dtype)
    view = canvas.reshape(rows, h + BOX_GAP, per_row, w + BOX_GAP)
    full = rows * per_row
    if full > n:
        boxes = np.concatenate([boxes, np.full((full - n, h, w), fill, boxes.dtype)])
    view[:, :h, :, :w] = boxes.reshape(rows, per_row, h, w).transpose(0, 2, 1, 3)
    return canvas


def unit_order(weights: np.ndarray, sort_l1: bool) -> np.ndarray:
    if not sort_l1:
        return np.arange(weights.shape[1])
    norms = np.abs(weights).sum(axis=0, dtype=np.int64 if weights.dtype.kind == "i" else None)
    return np.argsort(-norms, kind="stable")


def _palette() -> list[int]:
    """Palette PNG: indices 0..NNUE_CLIP along the colormap, GAP_INDEX white."""
    colors = np.zeros((256, 3), dtype=np.uint8)
    colors[: NNUE_CLIP + 1] = plt.get_cmap(COLORMAP)(np.linspace(0, 1, NNUE_CLIP + 1))[:, :3] * 255
    colors[GAP_INDEX] = GAP_RGB
    return colors.ravel().tolist()


def nnue_input_image(
    net: NnueNet, path: Path, sort_l1: bool = False, ref: NnueNet | None = None
) -> Path:
    """|w| (or |w - w_ref|) of the transformer, clipped at NNUE_CLIP, one box per unit."""
    from PIL import Image

    weights = net.ft_weights
    if ref is not None:
        weights = weights.astype(np.int32) - ref.ft_weights.astype(np.int32)
    order = unit_order(weights, sort_l1)
    magnitude = np.minimum(np.abs(weights[:, order]), NNUE_CLIP).astype(np.uint8)
    boxes = _unit_boxes(net, magnitude)
    box_h, box_w = boxes.shape[1:]
    per_row = max(1, int(round(np.sqrt(len(order) * box_h / box_w))))
    image = Image.fromarray(_tile(boxes, per_row, GAP_INDEX), "P")
    image.putpalette(_palette())
    return atomic_png(
        path, lambda tmp: image.save(tmp, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    )


# ---------------------------------------------------------------- LZ input filters


def lz_input_filters(conv_w: np.ndarray, path: Path, title: str) -> Path:
    """The input conv [F, 18, 3, 3] as F rows of 18 3x3 kernels (diverging colours)."""
    filters, planes = conv_w.shape[:2]
    boxes = conv_w.reshape(filters * planes, 3, 3).astype(np.float32)
    image = _tile(boxes, planes, np.nan)
    limit = float(np.nanmax(np.abs(image))) or 1.0
    fig, ax = plt.subplots(figsize=(3 + planes * 0.45, 1.5 + filters * 0.45 * 0.9))
    shown = ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
    ax.set_xticks(np.arange(planes) * 4 + 1, [str(p) for p in range(planes)], fontsize=7)
    ax.set_yticks(np.arange(filters) * 4 + 1, [str(f) for f in range(filters)], fontsize=6)
    ax.set_xlabel("input plane")
    ax.set_ylabel("filter")
    ax.set_title(title)
    fig.colorbar(shown, ax=ax, shrink=0.5)
    fig.tight_layout()
    return _save_figure(fig, path)


# ---------------------------------------------------------------- histograms, norms


def _histogram(flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts and bin edges; integers in bins of whole steps (by bincount where the range of
    values is small: fast; a file's int32 biases may span 2^32)."""
    if flat.dtype.kind not in "iu":
        return np.histogram(flat, bins=HIST_BINS)
    low, high = int(flat.min()), int(flat.max())
    span = high - low + 1
    step = max(1, -(-span // HIST_BINS))
    starts = np.arange(0, span, step)
    edges = np.append(low + starts, low + span) - 0.5
    if span > BINCOUNT_SPAN:
        return np.histogram(flat, bins=edges)[0], edges
    counts = np.bincount(flat.astype(np.int64) - low, minlength=span)
    return np.add.reduceat(counts, starts), edges


def histograms(groups: dict[str, np.ndarray], path: Path, title: str) -> Path:
    """One log-scale histogram per group of values."""
    cols = min(3, len(groups))
    rows = -(-len(groups) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.2 * rows), squeeze=False)
    for ax, (name, values) in zip(axes.ravel(), groups.items(), strict=False):
        flat = values.ravel()
        counts, edges = _histogram(flat)
        ax.stairs(counts, edges, fill=True)
        ax.set_yscale("log")
        ax.set_title(f"{name} ({flat.size:,})", fontsize=9)
    for ax in axes.ravel()[len(groups) :]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return _save_figure(fig, path)


def sorted_norms(curves: dict[str, np.ndarray], path: Path, title: str, ylabel: str) -> Path:
    """Each curve's values sorted descending (e.g. per-unit L1 norms of two nets)."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for label, values in curves.items():
        ax.plot(np.sort(np.asarray(values, dtype=np.float64))[::-1], label=label)
    ax.set_xlabel("unit (sorted)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save_figure(fig, path)


def correlation_figure(corr: np.ndarray, perm: np.ndarray, path: Path, title: str) -> Path:
    """Unit correlation matrix with the columns put in matched order, and the matched values."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5.5))
    shown = left.imshow(corr[:, perm], cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    left.set_xlabel("reference unit (matched order)")
    left.set_ylabel("unit")
    fig.colorbar(shown, ax=left, shrink=0.8)
    matched = corr[np.arange(len(perm)), perm]
    right.plot(np.sort(matched)[::-1])
    right.set_xlabel("unit (sorted)")
    right.set_ylabel("matched correlation")
    right.set_ylim(min(0.0, float(matched.min())), 1.02)
    right.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return _save_figure(fig, path)


# ---------------------------------------------------------------- strength ladder


def ladder_png(table: dict, path: Path) -> Path:
    """Elo against training step of the nets of a ladder table (play/ladder.py `rate`), with
    95 % intervals, and the GNU Go rungs as dashed lines."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    nets = sorted(
        ((row["step"], row) for row in table["players"].values() if row["step"] is not None),
        key=lambda item: item[0],
    )
    ax.errorbar(
        [step for step, _ in nets],
        [row["elo"] for _, row in nets],
        yerr=[row["elo_95"] or 0.0 for _, row in nets],
        marker="o",
        capsize=3,
        label="net (95 % interval)",
    )
    for name, row in table["players"].items():
        if row["kind"] == "gnugo":
            ax.axhline(row["elo"], linestyle="--", color="grey", linewidth=0.8)
            ax.annotate(name, (0.01, row["elo"]), xycoords=("axes fraction", "data"), fontsize=8)
    ax.set_xlabel("training step")
    ax.set_ylabel(f"Elo ({table['anchor']} = 0)")
    ax.set_title(f"Strength ladder: {table['games']} games")
    ax.legend(loc="lower right")
    return _save_figure(fig, path)
