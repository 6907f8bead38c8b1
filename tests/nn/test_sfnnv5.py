"""The SFNNv5 float network: same numbers as the dequantised file, exact re-quantisation,
factorised features folded, sparse transformer, clipping, PSQT start values."""

from __future__ import annotations

from pathlib import Path

import chess
import pytest
import torch
import yaml

import zeroforge.conf
from zeroforge.analysis.nnue_check import random_positions
from zeroforge.analysis.nnue_eval import evaluate, evaluate_float
from zeroforge.chess.features import PLANE_SIZE
from zeroforge.chess.nnue_arch import SFNNV5
from zeroforge.convert.nets import load_any_net
from zeroforge.convert.nnue import dequantise, quantise
from zeroforge.formats.nnue import nnue_bytes, random_net, write_nnue
from zeroforge.nn.checkpoint import save_checkpoint
from zeroforge.nn.sfnnv5 import NNUE2SCORE, NUM_FEATURES, PIECE_VALUES, SFNNv5
from zeroforge.train.losses import nnue_loss

from .chess_batches import board_batch


@pytest.fixture(scope="module")
def file_net():
    return random_net(SFNNV5, seed=5)


@pytest.fixture(scope="module")
def float_net(file_net):
    return dequantise(file_net).eval()


@pytest.fixture(scope="module")
def boards():
    return [chess.Board(fen) for fen in random_positions(24, seed=3)]


def test_forward_is_the_dequantised_file(file_net, float_net, boards):
    with torch.no_grad():
        ours = float_net(*board_batch(boards)).double() * NNUE2SCORE
    theirs = torch.tensor([evaluate_float(file_net, b) for b in boards], dtype=torch.float64)
    assert torch.allclose(ours, theirs, rtol=1e-4, atol=0.05)
    # and the integer pass (Stockfish's) lands near it: what quantisation costs
    ints = torch.tensor([evaluate(file_net, b).value for b in boards], dtype=torch.float64)
    assert (ours - ints).abs().max() < 12 + 0.05 * ints.abs().max()


def test_requantising_gives_the_same_file(file_net, tmp_path):
    write_nnue(file_net, tmp_path / "net.nnue")
    loaded = load_any_net(tmp_path / "net.nnue")  # .nnue -> a trainable float net
    assert isinstance(loaded, SFNNv5)
    assert nnue_bytes(quantise(loaded)) == nnue_bytes(file_net)


def test_checkpoint_round_trip(float_net, boards, tmp_path):
    save_checkpoint(float_net, tmp_path / "net.ckpt")
    loaded = load_any_net(tmp_path / "net.ckpt")
    assert isinstance(loaded, SFNNv5) and loaded.config() == float_net.config()
    batch = board_batch(boards)
    with torch.no_grad():
        assert torch.equal(loaded(*batch), float_net(*batch))


def test_factorised_features_fold_into_the_real_rows(boards):
    torch.manual_seed(0)
    factorised = SFNNv5(factorized=True)
    with torch.no_grad():
        factorised.input.weight[NUM_FEATURES:].normal_(0, 0.05)
    plain = SFNNv5(factorized=False)
    state = factorised.state_dict()
    state["input.weight"] = factorised.input.real_weight().detach()
    plain.load_state_dict(state)
    batch = board_batch(boards)
    with torch.no_grad():
        assert torch.allclose(factorised(*batch), plain(*batch), atol=1e-5)
        # feature 704 * bucket + i gets virtual row i
        expected = (
            factorised.input.weight[5 * 704 + 17] + factorised.input.weight[NUM_FEATURES + 17]
        )
        assert torch.equal(plain.input.weight[5 * 704 + 17], expected)


def test_padding_and_feature_order_do_not_matter(float_net, boards):
    stm, nstm, bucket = board_batch(boards[:4])
    shuffled = stm[:, torch.randperm(stm.shape[1])]  # padding (-1) now sits in between
    with torch.no_grad():
        assert torch.allclose(float_net(stm, nstm, bucket), float_net(shuffled, nstm, bucket))


def reference_transformer(transformer, indices: torch.Tensor) -> torch.Tensor:
    """The transformer as a dense matmul of a [B, rows] 0/1 matrix (the obviously right way)."""
    present = torch.zeros(indices.shape[0], transformer.weight.shape[0])
    for bag, features in enumerate(indices.tolist()):
        for feature in features:
            if feature >= 0:
                present[bag, feature] += 1
                if transformer.factorized:
                    present[bag, NUM_FEATURES + feature % PLANE_SIZE] += 1
    return present @ transformer.weight


@pytest.mark.parametrize("factorized", [False, True])
@pytest.mark.parametrize("row_sparse", [False, True])
def test_transformer_sum_and_gradient_equal_a_dense_matmul(boards, factorized, row_sparse):
    net = SFNNv5(factorized)
    with torch.no_grad():
        net.input.weight.normal_()
    stm, nstm, _ = board_batch(boards[:6])
    indices = torch.cat([stm, nstm])
    indices[1, 3] = indices[0, 0]  # a feature repeated in one bag counts twice
    output_grad = torch.randn(indices.shape[0], net.input.weight.shape[1])
    expected = reference_transformer(net.input, indices)
    expected.backward(output_grad)
    expected_grad, net.input.weight.grad = net.input.weight.grad, None
    net.input.row_sparse_grad = row_sparse
    units, psqt = net.input(indices)
    assert torch.allclose(torch.cat([units - net.input.bias, psqt], 1), expected, atol=1e-4)
    torch.cat([units, psqt], 1).backward(output_grad)
    grad = net.input.weight.grad
    assert grad.is_sparse == row_sparse
    if row_sparse:  # exactly the touched rows: active features and, factorised, their planes
        active = indices[indices >= 0]
        touched = set(active.tolist())
        if factorized:
            touched |= set((NUM_FEATURES + active % PLANE_SIZE).tolist())
        assert sorted(touched) == grad._indices()[0].tolist()
        grad = grad.to_dense()
    assert torch.allclose(grad, expected_grad, atol=1e-4)


def test_psqt_starts_as_material():
    net = SFNNv5().eval()
    start = chess.Board()
    up_a_queen = chess.Board("rnb1kbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1")
    _, psqt_start = net.input(board_batch([start])[0])
    stm, nstm, bucket = board_batch([up_a_queen, up_a_queen.mirror()])
    _, psqt_us = net.input(stm)
    _, psqt_them = net.input(nstm)
    material = (psqt_us - psqt_them)[:, 0] / 2 * NNUE2SCORE
    assert torch.allclose(material, torch.full((2,), float(PIECE_VALUES[4])))  # side to move's view
    assert torch.equal(psqt_start, torch.zeros(1, 8))  # own pieces +, theirs -: even material


def test_clip_weights_keeps_hidden_layers_in_int8():
    net = SFNNv5()
    with torch.no_grad():
        net.fc0.weight.fill_(5.0)
        net.fc2.weight.fill_(-5.0)
    net.clip_weights()
    quantised = quantise(net)
    assert all(stack[0].weights.max() == 127 for stack in quantised.stacks)
    assert all(stack[2].weights.min() == -127 for stack in quantised.stacks)


def test_quantise_warns_when_the_transformer_overflows_int16():
    net = SFNNv5()
    with torch.no_grad():
        net.input.bias[3] = 1000.0
    with pytest.warns(UserWarning, match="1 transformer bias values clipped to int16"):
        quantised = quantise(net)
    assert quantised.ft_biases[3] == 32767


def test_dequantise_refuses_other_nets():
    from zeroforge.chess.nnue_arch import HALFKP

    with pytest.raises(ValueError, match="HalfKP"):
        dequantise(random_net(HALFKP))


def sample_batch(count: int) -> dict[str, torch.Tensor]:
    """`count` real positions of the shipped Stockfish sample, shuffled as training reads them."""
    from zeroforge.data.chess_dataset import ChessDataset

    root = Path(__file__).resolve().parents[2]
    dataset = ChessDataset([root / "data/sample/chess/sf15-d6.binpack"], count, seed=0)
    return next(iter(dataset))


@pytest.mark.parametrize("factorized", [False, True])
@pytest.mark.parametrize("row_sparse", [False, True])
def test_stack_sorted_forward_equals_the_plain_path_loss_and_gradients(factorized, row_sparse):
    """The training forward (batch sorted by layer stack, one stack's matmul per position,
    fused pairwise and transformer backward) against `plain_forward` (every stack computed and
    the used one gathered, autograd's own backward), on 1,024 real positions: the same scores,
    loss and gradient of every parameter, to float tolerance."""
    batch = sample_batch(1024)
    assert len(batch["bucket"].unique()) == 8  # every layer stack has positions
    torch.manual_seed(0)
    net = SFNNv5(factorized)
    with torch.no_grad():  # stacks that differ from each other, units inside and outside [0, 1]
        for parameter in net.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.05)
    net.input.row_sparse_grad = row_sparse
    conf = Path(zeroforge.conf.__file__).parent / "network" / "sfnnv5.yaml"
    loss_settings = yaml.safe_load(conf.read_text())["loss"]  # the recipe's loss

    def run(forward) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        net.zero_grad(set_to_none=True)
        score = forward(batch["us"], batch["them"], batch["bucket"])
        loss = nnue_loss(
            score * NNUE2SCORE,
            batch["score"],
            batch["result"],
            1.0,
            loss_settings["scale"],
            loss_settings["kind"],
            loss_settings["power"],
        )
        loss.backward()
        grads = {}
        for name, parameter in net.named_parameters():
            grad = parameter.grad
            grads[name] = grad.to_dense() if grad.is_sparse else grad
        return score.detach(), loss.detach(), grads

    score, loss, grads = run(net)
    with torch.autocast("cpu", dtype=torch.bfloat16):  # float32 all the same (the module says)
        assert torch.equal(net(batch["us"], batch["them"], batch["bucket"]), score)
    plain_score, plain_loss, plain_grads = run(net.plain_forward)
    assert torch.allclose(score, plain_score, rtol=1e-5, atol=1e-5)
    assert torch.allclose(loss, plain_loss, rtol=1e-6)
    for name, grad in grads.items():
        scale = plain_grads[name].abs().max()
        assert scale > 0, name
        assert torch.allclose(grad, plain_grads[name], rtol=1e-4, atol=1e-5 * scale), name
