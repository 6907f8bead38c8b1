"""The analysis of one or more nets as a report: report.json, report.md and PNG figures in a
directory, every file written atomically. Ties together stats, dead, similarity and figures."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zeroforge.analysis import dead, figures, similarity, stats
from zeroforge.analysis.nets import LoadedNet
from zeroforge.atomic import atomic_write_bytes

MD_LIST_LIMIT = 64  # unit numbers shown per list in the markdown (the JSON has all)


@dataclass
class Options:
    out: Path
    xz: bool = False
    sort_l1: bool = False
    cache_dir: Path | None = None
    progress: object = None  # callable(name) after each tensor compressed


def slug(net: LoadedNet) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", net.path.name)


# ---------------------------------------------------------------- per-kind pieces


def _nnue_groups(net: LoadedNet) -> dict[str, np.ndarray]:
    groups = {
        name: net.tensors[name]
        for name in ("ft.weights", "ft.biases", "ft.psqt")
        if name in net.tensors
    }
    for n in range(len(net.nnue.arch.layers)):
        parts = [v.ravel() for k, v in net.tensors.items() if k.endswith(f"fc{n}.weights")]
        groups[f"fc{n}.weights (all stacks)"] = np.concatenate(parts)
    return groups


def _lz_groups(net: LoadedNet) -> dict[str, np.ndarray]:
    t = net.tensors
    tower = [v.ravel() for k, v in t.items() if k.startswith("tower.") and k.endswith("conv_w")]
    groups = {"input.conv_w": t["input.conv_w"]}
    if tower:
        groups["tower conv_w (all blocks)"] = np.concatenate(tower)
    groups.update({k: t[k] for k in ("policy.fc_w", "value.fc1_w", "value.fc2_w")})
    return groups


def _nnue_norms(net: LoadedNet) -> np.ndarray:
    return np.abs(net.nnue.ft_weights).sum(axis=0, dtype=np.int64) * net.scales["ft.weights"]


def _lz_norms(net: LoadedNet) -> dict[str, np.ndarray]:
    t = net.tensors
    curves = {"input": np.abs(t["input.conv_w"]).reshape(t["input.conv_w"].shape[0], -1).sum(1)}
    for part in ("conv1", "conv2"):
        rows = [
            np.abs(v).reshape(v.shape[0], -1).sum(1)
            for k, v in t.items()
            if k.startswith("tower.") and k.endswith(f"{part}.conv_w")
        ]
        if rows:
            curves[f"tower {part} (all blocks)"] = np.concatenate(rows)
    return curves


def _figures(net: LoadedNet, ref: LoadedNet | None, opts: Options) -> list[str]:
    base = slug(net)
    names = []

    def out(name: str) -> Path:
        names.append(f"{base}_{name}.png")
        return opts.out / names[-1]

    comparable = ref is not None and ref.kind == net.kind and _same_shape(net, ref)
    if net.kind == "nnue":
        figures.nnue_input_image(net.nnue, out("ft_weights"), opts.sort_l1)
        if comparable:
            figures.nnue_input_image(net.nnue, out("ft_weights_diff"), opts.sort_l1, ref.nnue)
        figures.histograms(_nnue_groups(net), out("histograms"), f"{net.label}: weights (steps)")
        curves = {net.label: _nnue_norms(net)}
        if comparable:
            curves[f"{ref.label} (ref)"] = _nnue_norms(ref)
        figures.sorted_norms(curves, out("unit_norms"), "transformer units: L1 norm", "L1 norm")
    else:
        conv = net.tensors["input.conv_w"]
        figures.lz_input_filters(conv, out("input_filters"), f"{net.label}: input conv")
        if comparable:
            figures.lz_input_filters(
                conv - ref.tensors["input.conv_w"],
                out("input_filters_diff"),
                f"{net.label} - {ref.label}: input conv",
            )
        figures.histograms(_lz_groups(net), out("histograms"), f"{net.label}: weights")
        curves = _lz_norms(net)
        if comparable:
            curves.update({f"{k} (ref)": v for k, v in _lz_norms(ref).items()})
        figures.sorted_norms(
            curves, out("channel_norms"), "conv output channels: L1 norm", "L1 norm"
        )
    return names


def _same_shape(a: LoadedNet, b: LoadedNet) -> bool:
    return a.tensors.keys() == b.tensors.keys() and all(
        a.tensors[k].shape == b.tensors[k].shape for k in a.tensors
    )


def _similarity(net: LoadedNet, ref: LoadedNet, opts: Options) -> tuple[dict, list[str]]:
    if net.kind != ref.kind or not _same_shape(net, ref):
        return {"error": f"not comparable: {net.description} vs {ref.description}"}, []
    if net.kind == "nnue":
        result = similarity.nnue_similarity(net.nnue, ref.nnue)
        name = f"{slug(net)}_similarity.png"
        figures.correlation_figure(
            result["corr"],
            result["perm"],
            opts.out / name,
            f"{net.label} vs {ref.label}: {result['unit']} correlation",
        )
        return _jsonable(result), [name]
    result = similarity.lz_similarity(net.lz, ref.lz)
    first = result["layers"]["input"]
    name = f"{slug(net)}_similarity_input.png"
    figures.correlation_figure(
        first["corr"],
        first["perm"],
        opts.out / name,
        f"{net.label} vs {ref.label}: input conv channel correlation",
    )
    return _jsonable(result), [name]


def _jsonable(value):
    """Drop big matrices, turn numpy values into plain JSON."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if k not in ("corr", "matched")}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


# ---------------------------------------------------------------- one net


def analyze(net: LoadedNet, ref: LoadedNet | None, opts: Options) -> dict:
    tensors = stats.all_stats(net.tensors, net.scales)
    result = {
        "file": str(net.path),
        "kind": net.kind,
        "description": net.description,
        "file_bytes": net.path.stat().st_size,
        "parameters": int(sum(v.size for v in net.tensors.values())),
        "tensors": tensors,
        "dead": dead.nnue_dead(net.nnue) if net.kind == "nnue" else dead.lz_dead(net.lz),
    }
    if opts.xz:
        sizes = stats.xz_sizes(net.path, net.tensors, opts.cache_dir, opts.progress)
        for name, size in sizes.items():
            tensors[name]["xz_bytes"] = size
            tensors[name]["xz_bits_per_weight"] = 8 * size / max(1, tensors[name]["count"])
        result["xz_bytes_total"] = int(sum(sizes.values()))
    result["figures"] = _figures(net, ref, opts)
    if ref is not None:
        result["reference"] = str(ref.path)
        result["similarity"], extra = _similarity(net, ref, opts)
        result["figures"] += extra
    return result


# ---------------------------------------------------------------- markdown


def _numbers(items) -> str:
    items = list(items)
    if not items:
        return "none"
    shown = ", ".join(str(i) for i in items[:MD_LIST_LIMIT])
    return shown + (f", ... ({len(items)} in all)" if len(items) > MD_LIST_LIMIT else "")


def _tensor_table(tensors: dict[str, dict]) -> list[str]:
    xz = any("xz_bytes" in t for t in tensors.values())
    head = "| tensor | shape | mean abs | q01 | median | q99 | zero | near 0 | entropy (bits) |"
    lines = [head + (" xz bytes | xz bits/w |" if xz else ""), "|---" * (9 + 2 * xz) + "|"]
    for name, t in tensors.items():
        q = t["quantiles"]
        row = (
            f"| {name} | {'x'.join(map(str, t['shape']))} | {t['mean_abs']:.4g} | {q[1]:.4g} "
            f"| {q[3]:.4g} | {q[5]:.4g} | {t['zero_fraction']:.3f} "
            f"| {t['near_zero_fraction']:.3f} | {t['entropy_bits']:.3f} |"
        )
        if xz:
            row += f" {t['xz_bytes']:,} | {t['xz_bits_per_weight']:.3f} |"
        lines.append(row)
    return lines


def _dead_lines(kind: str, d: dict) -> list[str]:
    lines = ["### Dead units", "", f"Rule: {d['rule']}.", ""]
    if kind == "nnue":
        lines += [
            f"- never positive ({len(d['never_positive_units'])} of {d['units']}): "
            f"{_numbers(d['never_positive_units'])}",
            f"- all weights ~0 (|w| <= 1): {_numbers(d['zero_weight_units'])}; of these "
            f"with bias <= 0: {_numbers(d['zero_weight_nonpositive_bias_units'])}",
            f"- fc_0 inputs read by no stack: {_numbers(d['unread_fc0_inputs'])}",
        ]
        if "dead_pairs" in d:
            lines.append(
                f"- dead pairs j/j+{d['pairs']} ({len(d['dead_pairs'])} of "
                f"{d['pairs']}): {_numbers(d['dead_pairs'])}"
            )
        return lines
    lines.append(f"{d['dead_total']} dead channels in {d['blocks']} blocks x {d['filters']}:")
    lines.append("")
    for name, layer in d["layers"].items():
        const = layer.get("constant", {})
        if layer["dead"] or const:
            lines.append(
                f"- {name}: dead {_numbers(layer['dead'])}"
                + (f"; constant {_numbers(const)}" if const else "")
            )
    return lines


def _similarity_lines(s: dict, ref: str) -> list[str]:
    lines = ["### Similarity", "", f"Reference: `{ref}`", ""]
    if "error" in s:
        return lines + [s["error"]]
    lines.append(
        f"Mean matched correlation: **{s['mean_matched_correlation']:.4f}** (unit: {s['unit']})"
    )
    for name, layer in s.get("layers", {}).items():
        lines.append(f"- {name}: {layer['mean_matched_correlation']:.4f} ({layer['units']} units)")
    return lines


def markdown(results: list[dict]) -> str:
    lines = ["# Weight analysis", ""]
    for r in results:
        lines += [
            f"## {Path(r['file']).name}",
            "",
            f"- file: `{r['file']}` ({r['file_bytes']:,} bytes)",
            f"- {r['description']}",
            f"- parameters: {r['parameters']:,}",
        ]
        if "xz_bytes_total" in r:
            lines.append(f"- xz -9e size of all tensors: {r['xz_bytes_total']:,} bytes")
        lines += ["", "### Tensors", "", *_tensor_table(r["tensors"]), ""]
        lines += [*_dead_lines(r["kind"], r["dead"]), ""]
        if "similarity" in r:
            lines += [*_similarity_lines(r["similarity"], r["reference"]), ""]
        lines += ["### Figures", ""] + [f"![{f}]({f})" for f in r["figures"]] + [""]
    return "\n".join(lines)


def write_report(results: list[dict], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "report.json", json.dumps(results, indent=1).encode())
    atomic_write_bytes(out / "report.md", markdown(results).encode())
