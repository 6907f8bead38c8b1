"""Our network numbers are leelaz's: export random and briefly trained nets, load them in the
real engine, replay positions, and compare `heatmap` (raw network output, no search) with
`zeroforge evaluate`: winrate within 1e-5, every printed per-mille policy value equal."""

import contextlib
import io
import re
import shutil
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch

from zeroforge.commands import evaluate
from zeroforge.convert.lzweights import export_net, load_net
from zeroforge.formats.lzweights import WeightsError, read_weights, write_weights
from zeroforge.go.geometry import NUM_POINTS
from zeroforge.nn.heads import HEADS
from zeroforge.nn.lznet import LZNet, randomize_bn_stats
from zeroforge.play.engines import engine_path, have_engine
from zeroforge.play.gtp import GTPEngine

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(not have_engine("leelaz"), reason="leelaz not installed"),
]

CAPTURE = "b D4 w D5 b Q16 w E4 b Q4 w D3 b K10 w C4"  # white C4 captures D4
POSITIONS = {
    "empty board, black to move": "",
    "one stone, white to move": "b Q16",
    "after a capture, full history, black to move": CAPTURE,
    "passes in the history, white to move": CAPTURE + " b R16 w pass b C16 w D4 b pass",
    "colours not alternating": "b D4 b Q16 b Q4",
}
HEATMAP = re.compile(r"((?:(?: *\d+ ){19}\n){19})pass: (\d+)\nwinrate: ([0-9.]+)\n")


def trained_net(head: str = "lz") -> LZNet:
    """A 2x16 net after a few SGD steps in train mode: BN statistics from real batches; the
    head trained as `head` (nn/heads.py), exported as the matrices it computes with."""
    torch.manual_seed(5)
    net = LZNet(2, 16, bn_momentum=0.3, head=head, head_residual_l2=1e-4)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    for _ in range(6):
        planes = (torch.rand(8, 18, 19, 19) < 0.2).float()
        logits, value = net(planes)
        target = torch.randint(0, 362, (8,))
        loss = torch.nn.functional.cross_entropy(logits, target) + (value - 0.5).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net.eval()


NETS = {
    "0x8 random (no residual blocks)": lambda: randomize_bn_stats(LZNet(0, 8), seed=10),
    "1x8 random": lambda: randomize_bn_stats(LZNet(1, 8), seed=11),
    "2x16 random, affine gamma": lambda: randomize_bn_stats(LZNet(2, 16, affine_gamma=True), 12),
    "3x32 random": lambda: randomize_bn_stats(LZNet(3, 32), seed=13),
    "2x16 trained 6 steps": trained_net,
    **{f"2x16 trained 6 steps, head {h}": partial(trained_net, h) for h in HEADS if h != "lz"},
}


@pytest.fixture
def workdir():
    path = Path(tempfile.mkdtemp(prefix="zfequiv", dir="/tmp"))  # leelaz lowercases paths
    yield path
    shutil.rmtree(path, ignore_errors=True)


def leelaz_heatmaps(weights: Path, positions: list[str]) -> list[str]:
    """The text of leelaz's `heatmap` (printed on stderr) for each position."""
    log = weights.with_suffix(".stderr")
    argv = [engine_path("leelaz"), "--cpu-only", "-g", "--noponder", "-t", "1", "-w", weights]
    with GTPEngine(argv, stderr_log=log) as engine:
        engine.send("name", timeout=120)  # the weights are loaded once this answers
        for count, moves in enumerate(positions, start=1):
            engine.send("clear_board")
            tokens = moves.split()
            for colour, vertex in zip(tokens[::2], tokens[1::2], strict=True):
                engine.send(f"play {colour} {vertex}")
            engine.send("heatmap")
            deadline = time.monotonic() + 30
            while len(HEATMAP.findall(log.read_text())) < count:
                assert time.monotonic() < deadline, f"no heatmap on stderr:\n{log.read_text()}"
                time.sleep(0.02)
        return [m.group(0) for m in HEATMAP.finditer(log.read_text())]


def parse_heatmap(text: str) -> tuple[np.ndarray, int, float]:
    board, pass_value, winrate = HEATMAP.fullmatch(text).groups()
    grid = np.array(board.split(), dtype=np.int64).reshape(19, 19)[::-1]  # rank 1 first
    return grid.reshape(NUM_POINTS), int(pass_value), float(winrate)


def assert_same(ours: str, theirs: str, where: str) -> None:
    our_grid, our_pass, our_winrate = parse_heatmap(ours)
    grid, pass_value, winrate = parse_heatmap(theirs)
    assert abs(our_winrate - winrate) <= 1e-5, f"{where}: winrate {our_winrate} vs {winrate}"
    differ = np.flatnonzero(our_grid != grid)
    assert differ.size == 0 and our_pass == pass_value, (
        f"{where}: per-mille policy differs at points {differ.tolist()}: "
        f"ours {our_grid[differ].tolist()} leelaz {grid[differ].tolist()}, "
        f"pass {our_pass} vs {pass_value}"
    )


def our_heatmap(net, moves: str) -> str:
    stored, side = evaluate.position_from_moves(evaluate.parse_moves(moves))
    policy, winrate = evaluate.net_output(net, stored, side)
    return evaluate.heatmap_text(policy, winrate, stored) + "\n"


@pytest.mark.parametrize("net_name", sorted(NETS))
def test_heatmap_equals_leelaz(workdir, net_name):
    net = NETS[net_name]()
    weights = workdir / "net.txt"
    export_net(net, weights)
    moves = list(POSITIONS.values())
    theirs = leelaz_heatmaps(weights, moves)
    assert len(theirs) == len(moves)
    loaded = load_net(weights)
    for name, position, heatmap in zip(POSITIONS, moves, theirs, strict=True):
        assert_same(our_heatmap(loaded, position), heatmap, f"{net_name}, {name}")
    # the network before export gives the same printed numbers too
    for name, position, heatmap in zip(POSITIONS, moves, theirs, strict=True):
        assert_same(our_heatmap(net, position), heatmap, f"{net_name} (in memory), {name}")


def test_evaluate_command_prints_leelazs_heatmap(workdir):
    net = randomize_bn_stats(LZNet(2, 16), seed=21)
    weights = workdir / "net.gz"
    export_net(net, weights)
    (theirs,) = leelaz_heatmaps(weights, [CAPTURE])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert evaluate.main([str(weights), "--moves", CAPTURE]) == 0
    assert_same(out.getvalue(), theirs, "zeroforge evaluate")
    board_lines = lambda text: text.splitlines()[:20]  # noqa: E731  (19 rows + pass)
    assert board_lines(out.getvalue()) == board_lines(theirs)


def test_import_of_a_foreign_file_then_export_gives_the_same_numbers(workdir):
    """A file another writer made (6 significant digits, as C++ streams print): leelaz loads
    it; our import then export gives the same heatmaps, and the same float32 values except
    that a conv bias may move by one ulp (beta = b / sqrt(var + eps) is stored in float32 and
    not every b is float32(beta * sqrt(var + eps)) for some float32 beta)."""
    rows = read_weights_rows(randomize_bn_stats(LZNet(2, 16), seed=31), workdir)
    foreign = workdir / "foreign.txt"
    lines = ["1"] + [" ".join(f"{v:.6g}" for v in row) for row in rows]
    foreign.write_text("\n".join(lines) + "\n")
    again = workdir / "again.txt"
    export_net(load_net(foreign), again)
    weights = read_weights(foreign)
    for index, (a, b) in enumerate(zip(weights.rows, read_weights(again).rows, strict=True)):
        if weights.row_name(index).split(" ")[0].endswith("conv_b"):
            assert np.all(np.abs(a.view(np.int32) - b.view(np.int32)) <= 1)
        else:
            assert np.array_equal(a, b), weights.row_name(index)
    moves = [POSITIONS["after a capture, full history, black to move"], "b Q16"]
    for first, second in zip(
        leelaz_heatmaps(foreign, moves), leelaz_heatmaps(again, moves), strict=True
    ):
        assert first == second


def read_weights_rows(net, workdir: Path) -> list[np.ndarray]:
    from zeroforge.convert.lzweights import net_to_rows

    rows = net_to_rows(net)
    write_weights(workdir / "rows.txt", rows)
    return read_weights(workdir / "rows.txt").rows


@pytest.mark.parametrize(
    "kind, line, edit",
    [
        ("negative variance", 5, lambda text: "-0.5 " + text.split(" ", 1)[1]),
        ("short tower row", 10, lambda text: text.rsplit(" ", 1)[0]),
    ],
)
def test_leelaz_loads_broken_files_that_we_refuse(workdir, kind, line, edit):
    """leelaz checks almost nothing (docs/ENGINES.md#leela-zero-weights-files): it answers `heatmap` on these files."""
    good = workdir / "good.txt"
    export_net(randomize_bn_stats(LZNet(1, 8), seed=41), good)
    lines = good.read_text().splitlines()
    lines[line - 1] = edit(lines[line - 1])
    bad = workdir / "bad.txt"
    bad.write_text("\n".join(lines) + "\n")
    (heatmap,) = leelaz_heatmaps(bad, [""])
    assert "winrate:" in heatmap
    with pytest.raises(WeightsError, match=f"line {line}"):
        read_weights(bad)
