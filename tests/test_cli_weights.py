import json

import numpy as np
import pytest
import torch

from zeroforge.cli import main
from zeroforge.commands.evaluate import parse_moves, position_from_moves
from zeroforge.convert.lzweights import export_net
from zeroforge.formats.chunks import Positions, write_chunk
from zeroforge.formats.lzweights import read_weights
from zeroforge.go.geometry import vertex_to_move
from zeroforge.go.planes import BLACK, WHITE
from zeroforge.nn.checkpoint import save_checkpoint
from zeroforge.nn.lznet import LZNet, randomize_bn_stats


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    torch.manual_seed(3)
    path = tmp_path_factory.mktemp("w") / "net.txt"
    export_net(randomize_bn_stats(LZNet(1, 8), seed=3), path)
    return path


def test_check(weights, capsys):
    assert main(["weights", "check", str(weights)]) == 0
    assert "1 x 8 (blocks x filters), 357,208 parameters" in capsys.readouterr().out


def test_check_reports_errors_without_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("2\n")
    assert main(["weights", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: line 1: version 2 (ELF" in err and "Traceback" not in err


def test_init_writes_a_seeded_untrained_net(tmp_path, capsys):
    a, b, c = tmp_path / "a.gz", tmp_path / "b.gz", tmp_path / "c.txt"
    assert main(["weights", "init", "--blocks", "2", "--filters", "16", str(a)]) == 0
    assert "2 x 16, untrained, seed 0" in capsys.readouterr().out
    assert main(["weights", "init", "--blocks", "2", "--filters", "16", "--seed", "0", str(b)]) == 0
    assert main(["weights", "init", "--blocks", "2", "--filters", "16", "--seed", "1", str(c)]) == 0
    same, other = read_weights(a), read_weights(c)
    assert (same.blocks, same.filters) == (2, 16)
    assert all(np.array_equal(x, y) for x, y in zip(same.rows, read_weights(b).rows, strict=True))
    assert not np.array_equal(same.rows[0], other.rows[0])
    torch.manual_seed(0)  # what it is: PyTorch's initialisation of LZNet under that seed
    expected = tmp_path / "expected.gz"
    export_net(LZNet(2, 16).eval(), expected)
    assert all(
        np.array_equal(x, y) for x, y in zip(same.rows, read_weights(expected).rows, strict=True)
    )
    assert main(["weights", "init", "--blocks", "2", "--filters", "0", str(c)]) == 1
    assert "--filters >= 1" in capsys.readouterr().err


def test_import_then_export_is_bit_exact(weights, tmp_path, capsys):
    ckpt, out, gz = tmp_path / "net.ckpt", tmp_path / "again.txt", tmp_path / "again.gz"
    assert main(["weights", "import", str(weights), str(ckpt)]) == 0
    assert main(["weights", "export", str(ckpt), str(out)]) == 0
    assert out.read_bytes() == weights.read_bytes()
    assert main(["weights", "export", str(ckpt), str(gz)]) == 0
    assert all(
        np.array_equal(a, b)
        for a, b in zip(read_weights(gz).rows, read_weights(weights).rows, strict=True)
    )
    assert main(["weights", "export", str(tmp_path / "none.ckpt"), str(out)]) == 1
    assert "none.ckpt: no such file" in capsys.readouterr().err


def test_export_of_a_training_style_checkpoint(tmp_path):
    net = randomize_bn_stats(LZNet(2, 8, affine_gamma=True), seed=8)
    save_checkpoint(net, tmp_path / "last.ckpt")
    assert main(["weights", "export", str(tmp_path / "last.ckpt"), str(tmp_path / "w.gz")]) == 0
    assert read_weights(tmp_path / "w.gz").blocks == 2


def _json(argv, capsys) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_evaluate_json(weights, capsys):
    out = _json(["evaluate", str(weights), "--moves", "", "--json"], capsys)
    policy = np.array(out["policy"])
    assert policy.shape == (362,) and abs(policy.sum() - 1) < 1e-9 and (policy > 0).all()
    assert 0 < out["winrate"] < 1
    # unmasked: occupied points keep their probability in the JSON
    after = _json(["evaluate", str(weights), "--moves", "b Q16", "--json"], capsys)
    assert after["policy"][vertex_to_move("Q16")] > 0


def test_position_from_moves_builds_history_and_captures():
    planes, side = position_from_moves(parse_moves("b D4 w D5 b Q16 w E4 b Q4 w D3 b K10 w C4"))
    assert side == BLACK
    d4, c4, q16 = (vertex_to_move(v) for v in ("D4", "C4", "Q16"))
    assert planes[0, d4] == 0 and planes[8, c4] == 1  # D4 captured now
    assert planes[1, d4] == 1 and planes[9, c4] == 0  # one move ago: D4 there, C4 not yet
    assert planes[5, q16] == 1 and planes[6, q16] == 0  # Q16 was move 3 of 8
    planes, side = position_from_moves(parse_moves("b Q16"))
    assert side == WHITE and planes[8, q16] == 1 and planes[9].sum() == 0
    with pytest.raises(ValueError, match="move 2 \\(w Q16\\) is on an occupied point"):
        position_from_moves(parse_moves("b Q16 w Q16"))
    with pytest.raises(ValueError, match="colour"):
        parse_moves("x Q16")


def test_evaluate_chunk_record_equals_moves(weights, tmp_path, capsys):
    moves = ["", "b Q16", "b Q16 w D4 b pass"]
    built = [position_from_moves(parse_moves(m)) for m in moves]
    positions = Positions(
        planes=np.stack([p for p, _ in built]),
        side_to_move=np.array([s for _, s in built], np.uint8),
        policy=np.full((3, 362), 1 / 362, np.float32),
        winner=np.ones(3, np.int8),
    )
    chunk = tmp_path / "c.gz"
    write_chunk(chunk, positions)
    for record, text in enumerate(moves):
        from_chunk = _json(
            ["evaluate", str(weights), "--chunk", str(chunk), "--record", str(record), "--json"],
            capsys,
        )
        from_moves = _json(["evaluate", str(weights), "--moves", text, "--json"], capsys)
        assert from_chunk == from_moves
    assert main(["evaluate", str(weights), "--chunk", str(chunk), "--record", "3"]) == 1
    assert "record 3 outside 0..2" in capsys.readouterr().err


def test_evaluate_errors(weights, tmp_path, capsys):
    assert main(["evaluate", str(weights), "--moves", "b Q16 w Q16"]) == 1
    assert "occupied" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "none.txt"), "--moves", ""]) == 1
    assert "none.txt: no such file" in capsys.readouterr().err


def test_net_output_leaves_the_network_alone():
    from zeroforge.commands.evaluate import net_output

    net = randomize_bn_stats(LZNet(1, 8), seed=2).train()
    stored, side = position_from_moves(parse_moves("b Q16"))
    policy, winrate = net_output(net, stored, side)
    assert net.training and net.input.conv.weight.dtype == torch.float32
    assert policy.dtype == np.float64 and 0 < winrate < 1
