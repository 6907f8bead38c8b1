"""Distillation and value targets: the loss arithmetic, frozen teachers, clear errors."""

import pytest
import torch
import torch.nn.functional as F

from tests.train.test_module import fit
from zeroforge.convert.lzweights import export_net
from zeroforge.nn.checkpoint import save_checkpoint
from zeroforge.nn.lznet import LZNet
from zeroforge.nn.nfnet import NFNet
from zeroforge.train import losses
from zeroforge.train.distill import Distillation, Teachers, kd_policy_loss
from zeroforge.train.module import TrainModule
from zeroforge.train.targets import (
    Coefficient,
    MissingQError,
    ValueTarget,
    add_value_terms,
    blend_value,
    make_targets,
)

DATA_PATHS = "/data/selfplay/chunks"


def batch_of(positions: int, seed: int = 0, q: bool = False) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    moves = torch.randint(0, 362, (positions,), generator=generator)
    batch = {
        "planes": torch.randint(0, 2, (positions, 18, 19, 19), generator=generator).to(torch.uint8),
        "policy": F.one_hot(moves, 362).float(),
        "z": torch.randint(0, 2, (positions,), generator=generator).float() * 2 - 1,
    }
    if q:
        batch["q"] = torch.rand(positions, generator=generator) * 2 - 1
    return batch


def config(kd: dict | None = None, value: dict | None = None, steps: int = 4) -> dict:
    return {
        "network": {"kind": "lz", "norm": "bn", "blocks": 1, "filters": 8},
        "optim": {"name": "sgd", "lr": 0.05, "momentum": 0.9, "l2": 0.0},
        "max_steps": steps,
        "schedule": {"segments": [{"kind": "constant", "until": "100%", "from": 1.0}]},
        "loss": {"value_weight": 0.5},
        "init": {"kind": "default"},
        "seed": 0,
        **({"kd": kd} if kd is not None else {}),
        **({"value": value} if value is not None else {}),
    }


def teacher_net(seed: int = 1) -> LZNet:
    torch.manual_seed(seed)
    net = LZNet(2, 8)
    with torch.no_grad():  # non-trivial BN statistics, so eval mode matters
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
    return net.eval()


def student_with(kd_cfg: dict, teachers: list, value: dict | None = None) -> TrainModule:
    module = TrainModule(config(value=value))
    module.game.distillation = Distillation(kd_cfg, 4, Teachers(teachers))
    return module.train()


def test_alpha_zero_is_exactly_the_plain_loss_and_never_runs_the_teacher():
    batch = batch_of(8)
    plain = TrainModule(config()).train()
    taught = student_with({"alpha": 0.0, "temperature": 3.0}, [teacher_net()])
    taught.net.load_state_dict(plain.net.state_dict())
    calls = []
    taught.game.distillation.teachers.nets[0].register_forward_hook(lambda *args: calls.append(1))
    expected, got = plain.compute_losses(batch), taught.compute_losses(batch)
    assert torch.equal(expected["loss"], got["loss"])
    assert torch.isnan(got["kd_loss"]) and got["kd_alpha"] == 0.0 and not calls


def test_alpha_one_temperature_one_makes_the_teacher_the_target():
    batch = batch_of(8, seed=3)
    teacher = teacher_net()
    module = student_with({"alpha": 1.0, "temperature": 1.0}, [teacher])
    terms = module.compute_losses(batch)
    logits, value = module.net(batch["planes"].float())
    teacher_logits, teacher_value = teacher(batch["planes"].float())
    expected = losses.policy_cross_entropy(
        logits, F.softmax(teacher_logits, dim=1)
    ) + 0.5 * losses.value_mse(value, teacher_value)
    torch.testing.assert_close(terms["loss"], expected, rtol=1e-6, atol=1e-6)
    # the data terms are still logged against the data's labels
    torch.testing.assert_close(
        terms["policy_loss"], losses.policy_cross_entropy(logits, batch["policy"])
    )


def test_alpha_mixes_data_and_teacher_losses():
    batch = batch_of(8, seed=4)
    module = student_with({"alpha": 0.25, "temperature": 2.0}, [teacher_net()])
    terms = module.compute_losses(batch)
    data_loss = terms["policy_loss"] + 0.5 * terms["value_mse"]
    torch.testing.assert_close(terms["loss"], 0.75 * data_loss + 0.25 * terms["kd_loss"])


def test_temperature_softens_both_sides_and_scales_by_t_squared():
    generator = torch.Generator().manual_seed(0)
    student, teacher = torch.randn(2, 4, 362, generator=generator)
    temperature = 2.5
    soft_teacher = F.softmax(teacher / temperature, dim=1)
    by_hand = -(soft_teacher * F.log_softmax(student / temperature, dim=1)).sum(1).mean()
    got = kd_policy_loss(student, soft_teacher, temperature)
    torch.testing.assert_close(got, temperature**2 * by_hand)


def test_ensemble_averages_probabilities_of_nets_loaded_from_both_file_kinds(tmp_path):
    lz, nf = teacher_net(1), NFNet(1, 8).eval()
    export_net(lz, tmp_path / "lz.txt.gz")
    save_checkpoint(nf, tmp_path / "nf.ckpt")
    teachers = Teachers.load([tmp_path / "lz.txt.gz", tmp_path / "nf.ckpt"])
    planes = batch_of(4)["planes"].float()
    out = teachers(planes, temperature=2.0)
    expected = [(F.softmax(p / 2.0, dim=1), v) for p, v in (lz(planes), nf(planes))]
    with torch.no_grad():
        torch.testing.assert_close(
            out["policy"], (expected[0][0] + expected[1][0]) / 2, atol=1e-5, rtol=1e-4
        )
        torch.testing.assert_close(
            out["value"], (expected[0][1] + expected[1][1]) / 2, atol=1e-5, rtol=1e-4
        )
    with pytest.raises(FileNotFoundError, match="kd.teachers: .*missing.txt"):
        Teachers.load([tmp_path / "missing.txt"])


def test_teachers_stay_frozen_and_out_of_the_student():
    teacher = teacher_net()
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    module = student_with({"alpha": 0.5, "temperature": 2.0}, [teacher])
    student_before = module.net.input.conv.weight.detach().clone()
    fit(module, [batch_of(8, seed=s) for s in range(3)], 3)
    for name, tensor in teacher.state_dict().items():
        assert torch.equal(tensor, before[name]), name  # weights and BN running statistics
    assert not teacher.training
    assert not torch.equal(student_before, module.net.input.conv.weight)
    assert all(key.startswith("net.") for key in module.state_dict())
    teacher_ids = {id(p) for p in teacher.parameters()}
    assert not teacher_ids & {id(p) for p in module.parameters()}


def test_teacher_sees_the_students_augmented_input():
    seen = []
    teacher = teacher_net()
    module = student_with({"alpha": 0.5}, [teacher])
    teacher.register_forward_hook(lambda mod, args, out: seen.append(args[0]))
    module.game.channels_last = True
    batch = batch_of(4)
    module.compute_losses(batch)
    assert len(seen) == 1 and torch.equal(seen[0], module.game.prepare(batch["planes"]))


def test_validation_measures_against_the_data_only():
    calls = []
    teacher = teacher_net()
    module = student_with({"alpha": 1.0}, [teacher], value={"q_ratio": 0.5}).eval()
    teacher.register_forward_hook(lambda *args: calls.append(1))
    terms = module.compute_losses(batch_of(4))  # no q in the batch: validation uses z
    assert "kd_loss" not in terms and not calls


def test_alpha_schedule_decays_to_zero_then_stops_the_teacher():
    kd = Distillation(
        {"alpha": [{"kind": "linear", "until": 10, "from": 1.0, "to": 0.0}]},
        100,
        Teachers([teacher_net()]),
    )
    planes = batch_of(2)["planes"].float()
    assert kd.targets(planes, 5)["kd_alpha"] == pytest.approx(0.5)
    assert kd.targets(planes, 10) == {"kd_alpha": 0.0} == kd.targets(planes, 50)


def test_q_ratio_blend_arithmetic():
    z, q = torch.tensor([1.0, -1.0, 1.0]), torch.tensor([0.5, 0.2, -0.4])
    torch.testing.assert_close(blend_value(z, q, 0.25), torch.tensor([0.875, -0.7, 0.65]))
    assert blend_value(z, q, 0.0) is z and torch.equal(blend_value(z, q, 1.0), q)
    schedule = [{"kind": "linear", "until": "50%", "from": 1.0, "to": 0.0}]
    target = ValueTarget({"q_ratio": schedule}, 40, DATA_PATHS)
    batch = {"z": z, "q": q}
    value, ratio = target(batch, 10)
    assert ratio == pytest.approx(0.5)
    torch.testing.assert_close(value, 0.5 * z + 0.5 * q)
    assert target(batch, 30)[1] == 0.0


def test_q_ratio_trains_against_the_blend_and_logs_the_z_error():
    batch = batch_of(8, q=True)
    module = TrainModule(config(value={"q_ratio": 0.75})).train()
    terms = module.compute_losses(batch)
    _, value = module.net(batch["planes"].float())
    blend = 0.25 * batch["z"] + 0.75 * batch["q"]
    torch.testing.assert_close(terms["value_mse"], losses.value_mse(value, blend))
    torch.testing.assert_close(terms["value_mse_z"], losses.value_mse(value, batch["z"]))


def test_q_from_the_teachers_value():
    teacher = teacher_net()
    module = student_with({"alpha": 0.0}, [teacher], value={"q_ratio": 1.0, "q_source": "teacher"})
    batch = batch_of(8)
    terms = module.compute_losses(batch)
    _, value = module.net(batch["planes"].float())
    with torch.no_grad():
        teacher_value = teacher(batch["planes"].float())[1]
    torch.testing.assert_close(terms["value_mse"], losses.value_mse(value, teacher_value))


def test_asking_for_q_the_data_lacks_is_a_clear_error_at_the_first_batch():
    module = TrainModule(config(value={"q_ratio": 0.5}), data_paths=DATA_PATHS)
    with pytest.raises(MissingQError, match=rf"value.q_ratio .*data.train = '{DATA_PATHS}'"):
        fit(module, [batch_of(4)], 1)
    scheduled = [{"kind": "constant", "until": 2, "from": 0.0}, {"kind": "constant", "from": 1.0}]
    with pytest.raises(MissingQError):  # still zero at step 0, but the config asks for q later
        TrainModule(config(value={"q_ratio": scheduled})).train().compute_losses(batch_of(4))


def test_bad_configs_name_their_key():
    with pytest.raises(ValueError, match="value.q_source"):
        ValueTarget({"q_source": "search"}, 10)
    with pytest.raises(ValueError, match="kd.alpha"):
        Coefficient("lots", 10, "kd.alpha")
    with pytest.raises(ValueError, match=r"value.q_ratio: values must lie in \[0, 1\]"):
        ValueTarget({"q_ratio": [{"kind": "linear", "from": 1.0, "to": -0.5}]}, 10)
    with pytest.raises(ValueError, match="kd.teachers: wide: outputs a Tensor"):
        Teachers([torch.nn.Conv2d(18, 2, 1)], ["wide"])  # not a two-headed Go network
    with pytest.raises(ValueError, match="kd.alpha: schedule segment 0: kind 'cubic'"):
        Coefficient([{"kind": "cubic", "from": 1.0}], 10, "kd.alpha")
    with pytest.raises(ValueError, match="kd.teachers is empty"):
        TrainModule(config(value={"q_ratio": 0.5, "q_source": "teacher"})).train().compute_losses(
            batch_of(2)
        )


@pytest.mark.slow
def test_train_command_with_a_teacher_and_with_q_missing(tmp_path, random_positions, capsys):
    from zeroforge.commands.train import main
    from zeroforge.formats.chunks import write_chunk

    chunk = tmp_path / "data" / "train.0.gz"
    chunk.parent.mkdir()
    write_chunk(chunk, random_positions(64))
    teacher = tmp_path / "teacher.txt.gz"
    export_net(teacher_net(), teacher)
    common = [
        "network=2x16",
        f"data.train={chunk}",
        "data.val_fraction=0",
        "data.sample_rate=1.0",
        "data.batch_size=16",
        "data.shuffle_buffer=64",
        "data.workers=0",
        "train.max_steps=3",
        "train.threads=1",
        "train.progress=false",
        "train.log_every=1",
        "averaging=none",
    ]
    kd = [f"kd.teachers=[{teacher}]", "kd.alpha=0.5", "kd.temperature=2"]
    assert main([*common, *kd, f"out_dir={tmp_path / 'kd'}"]) == 0
    metrics = (tmp_path / "kd" / "metrics.csv").read_text().splitlines()
    header, last = metrics[0].split(","), metrics[-1].split(",")
    assert float(last[header.index("kd_alpha")]) == 0.5 and last[header.index("kd_loss")]
    checkpoint = torch.load(tmp_path / "kd" / "checkpoints" / "last.ckpt", weights_only=True)
    assert all(key.startswith("net.") for key in checkpoint["state_dict"])

    assert main([*common, "value.q_ratio=0.5", f"out_dir={tmp_path / 'q'}"]) == 1
    error = capsys.readouterr().err
    assert "value.q_ratio" in error and str(chunk) in error


def test_a_q_ratio_schedule_logs_the_z_error_and_ratio_after_it_reaches_zero():
    scheduled = [{"kind": "linear", "until": 2, "from": 1.0, "to": 0.0}]
    batch = batch_of(8, q=True)
    value_target = ValueTarget({"q_ratio": scheduled}, 10)
    value = torch.zeros(8)
    for step, ratio in ((0, 1.0), (1, 0.5), (5, 0.0)):
        target = make_targets(batch, batch["planes"].float(), step, True, value_target)
        terms = {}
        add_value_terms(terms, value, target)
        assert terms["q_ratio"] == ratio
        torch.testing.assert_close(terms["value_mse_z"], losses.value_mse(value, batch["z"]))
