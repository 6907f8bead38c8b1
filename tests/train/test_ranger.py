"""Lazy Ranger: dense gradients as pytorch-optimizer's Ranger; row-sparse gradients update
exactly the dense way on rows touched at every step and leave untouched rows alone."""

from __future__ import annotations

import pytest
import torch
from pytorch_optimizer import Ranger

from zeroforge.train.ranger import LazyRanger

SETTINGS = {"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-7, "degenerated_to_sgd": True}
STEPS = 14  # past RAdam's unrectified first steps and two lookahead syncs (k = 6)


def gradients(rows: int, columns: int, steps: int) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    return [torch.randn(rows, columns, generator=generator) for _ in range(steps)]


def run(optimizer_class, grads, make_grad, compiled=True, **settings) -> tuple[torch.Tensor, dict]:
    weight = torch.nn.Parameter(torch.linspace(-1, 1, grads[0].numel()).view_as(grads[0]))
    bias = torch.nn.Parameter(torch.ones(3))
    optimizer = optimizer_class([weight, bias], **{**SETTINGS, **settings})
    optimizer.compiled = compiled  # (LazyRanger: C or torch for the rows; Ranger ignores it)
    for grad in grads:
        weight.grad = make_grad(grad)
        bias.grad = grad[0, :3].clone()
        optimizer.step()
    return torch.cat([weight.detach().flatten(), bias.detach()]), optimizer.state[weight]


def row_sparse(grad: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    return torch.sparse_coo_tensor(
        rows[None], grad[rows], grad.shape, check_invariants=True
    ).coalesce()


@pytest.mark.parametrize("settings", [{}, {"use_gc": True, "weight_decay": 0.1}])
def test_dense_gradients_step_as_pytorch_optimizers_ranger(settings):
    grads = gradients(6, 5, STEPS)
    ours, _ = run(LazyRanger, grads, torch.clone, **settings)
    theirs, _ = run(Ranger, grads, torch.clone, **settings)
    assert torch.equal(ours, theirs)


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("settings", [{}, {"use_gc": True, "weight_decay": 0.1}])
def test_rows_touched_every_step_update_as_dense_ones(settings, compiled):
    grads = gradients(6, 5, STEPS)
    every = torch.arange(6)
    lazy, _ = run(LazyRanger, grads, lambda g: row_sparse(g, every), compiled, **settings)
    dense, _ = run(Ranger, grads, torch.clone, **settings)
    assert torch.allclose(lazy, dense, rtol=0, atol=1e-6)


@pytest.mark.parametrize("compiled", [True, False])
def test_untouched_rows_keep_weights_and_moments(compiled):
    grads = gradients(6, 5, STEPS)
    always, sometimes = torch.tensor([0, 2]), torch.tensor([0, 2, 4])
    touched = lambda step: sometimes if step % 5 == 0 else always  # noqa: E731
    calls = iter(range(STEPS))
    lazy, state = run(LazyRanger, grads, lambda g: row_sparse(g, touched(next(calls))), compiled)
    dense, _ = run(Ranger, grads, lambda g: g * (torch.arange(6) % 2 == 0)[:, None])
    lazy, dense = lazy[:30].view(6, 5), dense[:30].view(6, 5)
    start = torch.linspace(-1, 1, 30).view(6, 5)
    assert torch.equal(lazy[[1, 3, 5]], start[[1, 3, 5]])  # never touched
    assert torch.equal(state["exp_avg"][[1, 3, 5]], torch.zeros(3, 5))
    assert torch.allclose(lazy[[0, 2]], dense[[0, 2]], rtol=0, atol=1e-6)  # touched every step
    # row 4, touched at steps 0, 5 and 10: lazily its moments did not decay in between
    assert not torch.allclose(lazy[4], dense[4])
    assert not state["unsynced"][[1, 3, 5]].any()


def test_unsorted_sparse_gradients_are_coalesced():
    grads = gradients(6, 5, 3)
    rows = torch.tensor([4, 1, 4])  # a repeated, unsorted row: its values add up

    def uncoalesced(grad):
        return torch.sparse_coo_tensor(rows[None], grad[rows], grad.shape, check_invariants=True)

    lazy, _ = run(LazyRanger, grads, uncoalesced)
    coalesced, _ = run(LazyRanger, grads, lambda g: uncoalesced(g).coalesce())
    assert torch.equal(lazy, coalesced)


def test_resumes_from_its_state_dict():
    grads = gradients(6, 5, STEPS)
    rows = torch.tensor([1, 3])
    whole, _ = run(LazyRanger, grads, lambda g: row_sparse(g, rows))
    weight = torch.nn.Parameter(torch.linspace(-1, 1, 30).view(6, 5))
    bias = torch.nn.Parameter(torch.ones(3))
    optimizer = LazyRanger([weight, bias], **SETTINGS)
    for step, grad in enumerate(grads):
        if step == 8:  # lookahead synced at 6; rows 1 and 3 touched since then
            saved = optimizer.state_dict()
            optimizer = LazyRanger([weight, bias], **SETTINGS)
            optimizer.load_state_dict(saved)
        weight.grad, bias.grad = row_sparse(grad, rows), grad[0, :3].clone()
        optimizer.step()
    assert torch.equal(torch.cat([weight.detach().flatten(), bias.detach()]), whole)


def chess_step(optim: dict, batch) -> tuple[torch.nn.Module, torch.Tensor]:
    """One step of build_optimizer's optimiser on SFNNv5 (with `optim.l2`'s term as
    TrainModule adds it); the transformer weight before the step."""
    from zeroforge.nn.sfnnv5 import SFNNv5
    from zeroforge.train.losses import l2_penalty
    from zeroforge.train.optim import build_optimizer

    net = SFNNv5(factorized=True)
    optimizer = build_optimizer({"name": "ranger", "lr": 0.01, **optim}, net)
    before = net.input.weight.detach().clone()
    loss = net(*batch).square().mean()
    if "l2" in optim:
        loss = loss + optim["l2"] * l2_penalty([net.input.weight])
    loss.backward()
    optimizer.step()
    return net, before


@pytest.fixture(scope="module")
def chess_batch():
    stm = torch.randint(0, 22528, (4, 30))
    return stm, torch.randint(0, 22528, (4, 30)), torch.randint(0, 8, (4,))


def test_lazy_rows_update_only_the_rows_a_batch_touches(chess_batch):
    net, before = chess_step({"lazy_rows": True}, chess_batch)
    assert net.input.row_sparse_grad and net.input.weight.grad.is_sparse
    moved = (net.input.weight.detach() != before).any(1).nonzero().flatten()
    assert moved.tolist() == net.input.weight.grad._indices()[0].tolist()


def test_an_l2_term_makes_the_update_dense_again(chess_batch):
    net, before = chess_step({"lazy_rows": True, "l2": 1e-3}, chess_batch)
    assert not net.input.weight.grad.is_sparse
    real = slice(0, 22528)  # (the virtual rows start at zero: no L2 gradient)
    assert (net.input.weight.detach()[real] != before[real]).any(1).all()


def test_lazy_rows_is_ranger_only():
    from zeroforge.nn.sfnnv5 import SFNNv5
    from zeroforge.train.optim import build_optimizer

    with pytest.raises(ValueError, match="lazy_rows.*adamw"):
        build_optimizer({"name": "adamw", "lr": 0.01, "lazy_rows": True}, SFNNv5())


def test_agc_refuses_row_sparse_gradients(chess_batch):
    from zeroforge.train.agc import adaptive_clip_grad_

    net, _ = chess_step({"lazy_rows": True}, chess_batch)
    with pytest.raises(ValueError, match="lazy_rows"):
        adaptive_clip_grad_([net.input.weight], 0.01)


def test_compiled_and_torch_row_updates_agree():
    from zeroforge.train.ranger import _compiled

    assert _compiled is not None, "build the extension: python setup.py build_ext --inplace"
    grads = gradients(64, 40, STEPS)
    rows = torch.tensor([0, 5, 6, 31, 63])
    settings = {"weight_decay": 0.05, "use_gc": True}
    compiled, _ = run(LazyRanger, grads, lambda g: row_sparse(g, rows), True, **settings)
    in_torch, _ = run(LazyRanger, grads, lambda g: row_sparse(g, rows), False, **settings)
    assert torch.allclose(compiled, in_torch, rtol=0, atol=1e-6)
    assert not torch.equal(compiled, run(LazyRanger, grads, torch.clone)[0])  # rows moved


def test_compiled_update_refuses_rows_out_of_range():
    from zeroforge.train.ranger import _compiled

    weight, grad = torch.zeros(4, 3), torch.ones(1, 3)
    with pytest.raises(ValueError, match="row index out of range"):
        _compiled.rows_update(weight.numpy(), weight.clone().numpy(), weight.clone().numpy(),
                              grad.numpy(), torch.tensor([4]).numpy(), 0.9, 0.999, 1e-7, 0.1,
                              True, 1.0)  # fmt: skip
