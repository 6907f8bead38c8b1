import pytest

from zeroforge.play.engines import EngineNotFound, resolve_binary
from zeroforge.play.specs import SpecError, make_spec, parse_flag


def test_gnugo_always_gets_a_seed_and_chinese_rules(tmp_path):
    spec = parse_flag("gnugo:level=1,seed=3")
    spec.prepare(tmp_path)
    argv = spec.argv(game_seed=7)
    assert argv[0].endswith("gnugo")
    assert argv[argv.index("--seed") + 1] == "10"
    assert argv[argv.index("--level") + 1] == "1"
    assert "--chinese-rules" in argv
    assert spec.name == "gnugo-l1"
    default = parse_flag("gnugo")
    default.prepare(tmp_path)
    assert default.argv(0)[default.argv(0).index("--seed") + 1] == "0"


def test_leelaz_argv(tmp_path):
    weights = tmp_path / "Net Weights.gz"  # spaces and capitals are fine on the command line
    weights.write_bytes(b"")
    spec = make_spec(
        {
            "kind": "leelaz",
            "weights": str(weights),
            "playouts": 5,
            "resign": 0,
            "extra_args": "--timemanage off",
        },
        "test",
    )
    spec.prepare(tmp_path)
    argv = spec.argv(game_seed=4)
    for flag in ("--cpu-only", "-g", "--noponder"):
        assert flag in argv
    assert argv[argv.index("-p") + 1] == "5"
    assert argv[argv.index("-r") + 1] == "0"
    assert argv[argv.index("-s") + 1] == "4"
    assert argv[argv.index("-w") + 1] == str(weights)
    assert argv[-2:] == ["--timemanage", "off"]
    assert "-v" not in argv
    gpu = make_spec(
        {"kind": "leelaz", "weights": str(weights), "visits": 9, "cpu_only": False}, "test"
    )
    gpu.prepare(tmp_path)
    assert "--cpu-only" not in gpu.argv(0) and "-v" in gpu.argv(0)


def test_gtp_command_with_seed(tmp_path, fake_engine):
    spec = parse_flag("gtp:" + " ".join(fake_engine(seed="{seed}")))
    spec.prepare(tmp_path)
    assert spec.argv(5)[-1] == "seed=5"
    assert spec.name == "fake_engine"


def test_yaml_spec_file_with_relative_weights(tmp_path):
    (tmp_path / "w.txt").write_text("1\n")
    path = tmp_path / "engine.yaml"
    path.write_text("kind: leelaz\nname: mine\nweights: w.txt\nvisits: 3\n")
    spec = parse_flag(str(path))
    assert spec.name == "mine"
    assert spec.options["weights"] == str(tmp_path / "w.txt")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("chess:level=1", "kind must be one of"),
        ("gnugo:levle=1", "unknown key"),
        ("gnugo:level=one", "wrong type"),
        ("gnugo:level=-1", "must not be negative"),
        ("gnugo:level", "not key=value"),
        ("leelaz:weights=/nonexistent.gz,playouts=1", "does not exist"),
        ("leelaz:playouts=1", "missing required key 'weights'"),
        ("gtp:", "command is empty"),
        ("nothere.yaml", "no such file"),
    ],
)
def test_bad_specs_are_named(text, message):
    with pytest.raises(SpecError, match=message) as info:
        parse_flag(text)
    assert text in str(info.value)


def test_leelaz_needs_a_search_budget(tmp_path):
    (tmp_path / "w.txt").write_text("1\n")
    with pytest.raises(SpecError, match="playouts or visits"):
        make_spec({"kind": "leelaz", "weights": str(tmp_path / "w.txt")}, "cfg")


def test_binaries(tmp_path):
    assert resolve_binary("gnugo").startswith("/")
    with pytest.raises(EngineNotFound):
        resolve_binary(str(tmp_path / "missing"))
    spec = parse_flag(f"gnugo:binary={tmp_path / 'missing'}")
    with pytest.raises(SpecError, match="not an executable"):
        spec.prepare(tmp_path)
