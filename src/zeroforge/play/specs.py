"""Engine specs: what to start for one player of a match, from YAML or a one-line flag.

Kinds and their keys (defaults in `KINDS`; every spec may also have `name`):

    leelaz  weights (a Leela Zero weights file, text or .gz, or one of our checkpoints,
            exported to a temporary weights file once per match), playouts
            and/or visits (at least one), threads, resign (-r percent; leelaz's own default
            when absent, 0 never resigns), random_moves (-m), noise (-n), seed (-s, plus the
            game number), cpu_only (default true), quiet (-q), extra_args, binary.
    gnugo   level, seed (always passed, plus the game number: GNU Go's default seed is the
            clock, so games started in the same second would be identical), chinese_rules
            (default true), extra_args, binary.
    gtp     command: any GTP engine as an argv list (or a string split like a shell would,
            never run by one); `{seed}` in an argument becomes the game's seed.
    stockfish  (UCI, chess) nodes, depth and/or movetime (ms; at least one: `go` limits),
            evalfile (a .nnue; its digest is part of the match), use_nnue (false: the
            classical evaluation), elo (UCI_LimitStrength + UCI_Elo, 1350-2850), threads (1),
            hash (MB, 16), options (any other UCI options, a mapping), binary.
    uci     (chess) command: any UCI engine as an argv list or string, as for gtp; options,
            nodes/depth/movetime as for stockfish.

Flag form (`--black`, `--white`): `KIND` or `KIND:key=value,key=value` (values read as YAML
scalars), `gtp:COMMAND LINE`, `uci:key=value,...:COMMAND LINE`, or the path of a YAML file holding one spec; any of them may be
prefixed by `NAME=` to name the player (`new=leelaz:weights=net.gz,playouts=8`).
"""

from __future__ import annotations

import hashlib
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from zeroforge.play.engines import EngineNotFound, resolve_binary

REQUIRED = object()

KINDS: dict[str, dict[str, tuple[type | tuple[type, ...], Any]]] = {
    "leelaz": {
        "weights": (str, REQUIRED),
        "playouts": (int, None),
        "visits": (int, None),
        "threads": (int, 1),
        "resign": ((int, float), None),
        "random_moves": (int, 0),
        "noise": (bool, False),
        "seed": (int, 0),
        "cpu_only": (bool, True),
        "quiet": (bool, False),
        "extra_args": (list, []),
        "binary": (str, "leelaz"),
    },
    "gnugo": {
        "level": (int, 10),
        "seed": (int, 0),
        "chinese_rules": (bool, True),
        "extra_args": (list, []),
        "binary": (str, "gnugo"),
    },
    "gtp": {"command": (list, REQUIRED), "seed": (int, 0)},
    "stockfish": {
        "nodes": (int, None),
        "depth": (int, None),
        "movetime": (int, None),
        "evalfile": (str, None),
        "use_nnue": (bool, None),
        "elo": (int, None),
        "threads": (int, 1),
        "hash": (int, 16),
        "options": (dict, {}),
        "binary": (str, "stockfish"),
    },
    "uci": {
        "command": (list, REQUIRED),
        "nodes": (int, None),
        "depth": (int, None),
        "movetime": (int, None),
        "options": (dict, {}),
        "seed": (int, 0),
    },
}
UCI_KINDS = ("stockfish", "uci")
SEARCH_LIMITS = ("nodes", "depth", "movetime")
UCI_FLAG_HEAD = re.compile(r"^((?:\w+=[^,:]*,)*\w+=[^,:]*):(.*)$")
ELO_RANGE = (1350, 2850)  # Stockfish 15.1's UCI_Elo (docs/ENGINES.md#stockfish)


class SpecError(ValueError):
    """A spec that cannot be used; the message names where it came from."""


@dataclass
class EngineSpec:
    kind: str
    name: str
    options: dict[str, Any]
    source: str = "<spec>"
    _binary: str | None = field(default=None, repr=False)  # resolved by prepare()
    _weights: str | None = field(default=None, repr=False)  # leelaz: the file it loads

    @property
    def protocol(self) -> str:
        return "uci" if self.kind in UCI_KINDS else "gtp"

    def search_limits(self) -> dict[str, int]:
        """A UCI engine's `go` limits."""
        return {k: self.options[k] for k in SEARCH_LIMITS if self.options.get(k) is not None}

    def uci_options(self) -> dict[str, Any]:
        """The UCI options to set after `uci` (Stockfish's named keys, then `options`)."""
        opts = self.options
        named: dict[str, Any] = {}
        if self.kind == "stockfish":
            named = {"Threads": opts["threads"], "Hash": opts["hash"]}
            if opts["evalfile"] is not None:
                named["EvalFile"] = opts["evalfile"]
            if opts["use_nnue"] is not None:
                named["Use NNUE"] = opts["use_nnue"]
            if opts["elo"] is not None:
                named.update(UCI_LimitStrength=True, UCI_Elo=opts["elo"])
        return {**named, **opts["options"]}

    def to_dict(self) -> dict[str, Any]:
        """The spec as configured."""
        return {"kind": self.kind, "name": self.name, **self.options}

    def identity(self) -> dict[str, Any]:
        """What a resumed match must agree on: the spec, and for leelaz the weights' digest
        (a net retrained to the same path is a different player)."""
        identity = self.to_dict()
        if self.kind == "leelaz":
            identity["weights_sha256"] = file_sha256(self.options["weights"])
        if self.kind == "stockfish" and self.options["evalfile"] is not None:
            identity["evalfile_sha256"] = file_sha256(self.options["evalfile"])
        return identity

    def prepare(self, workdir: Path) -> None:
        """Resolve binaries and, for a leelaz checkpoint, export it once into `workdir`."""
        has_command = self.kind in ("gtp", "uci")
        program = self.options["command"][0] if has_command else self.options["binary"]
        try:
            self._binary = resolve_binary(program)
        except EngineNotFound as err:
            raise SpecError(f"{self.source}: {err}") from None
        if self.kind == "leelaz":
            self._weights = leelaz_weights(self.options["weights"], workdir, self.name)

    def argv(self, game_seed: int) -> list[str]:
        """The command line for one game; `game_seed` is added to the spec's seed."""
        if self._binary is None:
            raise RuntimeError(f"{self.name}: prepare() the spec before starting it")
        if self.kind == "stockfish":
            return [self._binary]
        seed = self.options["seed"] + game_seed
        if self.kind in ("gtp", "uci"):
            rest = self.options["command"][1:]
            return [self._binary] + [a.replace("{seed}", str(seed)) for a in rest]
        if self.kind == "gnugo":
            return gnugo_argv(self._binary, self.options, seed)
        return leelaz_argv(self._binary, self.options, self._weights, seed)


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def gnugo_argv(binary: str, opts: dict[str, Any], seed: int) -> list[str]:
    argv = [binary, "--mode", "gtp", "--level", str(opts["level"]), "--seed", str(seed)]
    if opts["chinese_rules"]:
        argv.append("--chinese-rules")
    return argv + list(opts["extra_args"])


def leelaz_argv(binary: str, opts: dict[str, Any], weights: str, seed: int) -> list[str]:
    argv = [binary, "-g", "--noponder", "-w", weights, "-t", str(opts["threads"]), "-s", str(seed)]
    if opts["cpu_only"]:
        argv.append("--cpu-only")
    for key, flag in (("playouts", "-p"), ("visits", "-v"), ("resign", "-r")):
        if opts[key] is not None:
            argv += [flag, str(opts[key])]
    if opts["random_moves"]:
        argv += ["-m", str(opts["random_moves"])]
    if opts["noise"]:
        argv.append("-n")
    if opts["quiet"]:
        argv.append("-q")
    return argv + list(opts["extra_args"])


def leelaz_weights(path: str, workdir: Path, name: str) -> str:
    """The weights file leelaz should load: a Leela Zero weights file itself, or our checkpoint
    exported once into `workdir` (a lowercase path: leelaz lowercases paths it reads over GTP,
    docs/ENGINES.md#leelaz). Which is which is decided by `convert.nets.is_lz_weights`."""
    from zeroforge.convert.nets import is_lz_weights, load_any_net  # torch only when needed

    if is_lz_weights(path):
        return path
    from zeroforge.convert.lzweights import export_net

    workdir.mkdir(parents=True, exist_ok=True)
    target = workdir / f"{''.join(c if c.isalnum() else '-' for c in name.lower())}.txt.gz"
    try:
        export_net(load_any_net(path), target)
    except ValueError as err:  # CheckpointError, WeightsError
        raise SpecError(f"{name}: cannot export {path} for leelaz: {err}") from None
    return str(target)


def make_spec(raw: Any, source: str, base_dir: Path | None = None) -> EngineSpec:
    """Validate one spec mapping; relative paths are taken from `base_dir`."""
    if not isinstance(raw, dict):
        raise SpecError(f"{source}: an engine spec must be a mapping, got {raw!r}")
    raw = dict(raw)
    kind = raw.pop("kind", None)
    if kind not in KINDS:
        raise SpecError(f"{source}: kind must be one of {sorted(KINDS)}, got {kind!r}")
    name = raw.pop("name", None)
    schema = KINDS[kind]
    unknown = sorted(set(raw) - set(schema))
    if unknown:
        raise SpecError(
            f"{source}: unknown key(s) {unknown} for kind {kind}; known: {sorted(schema)} and name"
        )
    options = {
        key: _checked(source, key, raw.get(key, default), typ)
        for key, (typ, default) in schema.items()
    }
    _check_kind(kind, options, source, base_dir)
    return EngineSpec(kind, str(name) if name else default_name(kind, options), options, source)


def _checked(source: str, key: str, value: Any, typ) -> Any:
    if value is REQUIRED:
        raise SpecError(f"{source}: missing required key {key!r}")
    if value is None:
        return None
    if typ is dict:
        if not isinstance(value, dict):
            raise SpecError(f"{source}: {key} must be a mapping, got {value!r}")
        return {str(k): v for k, v in value.items()}
    if typ is list:
        if isinstance(value, str):
            value = shlex.split(value)
        if not isinstance(value, list):
            raise SpecError(f"{source}: {key} must be a list of arguments, got {value!r}")
        return [str(v) for v in value]
    if isinstance(value, bool) and typ is not bool:
        raise SpecError(f"{source}: {key} must be a number, got {value!r}")
    if not isinstance(value, typ):
        raise SpecError(f"{source}: {key} has the wrong type: {value!r}")
    if typ is int and value < 0:
        raise SpecError(f"{source}: {key} must not be negative, got {value}")
    return value


def _check_kind(kind: str, options: dict, source: str, base_dir: Path | None) -> None:
    if kind in ("gtp", "uci") and not options["command"]:
        raise SpecError(f"{source}: command is empty")
    if kind in UCI_KINDS:
        _check_uci(kind, options, source, base_dir)
    if kind != "leelaz":
        return
    if options["playouts"] is None and options["visits"] is None:
        raise SpecError(f"{source}: a leelaz spec needs playouts or visits (or both)")
    weights = Path(options["weights"]).expanduser()
    if base_dir is not None and not weights.is_absolute():
        weights = base_dir / weights
    if not weights.is_file():
        raise SpecError(f"{source}: weights file {str(weights)!r} does not exist")
    options["weights"] = str(weights.resolve())


def _check_uci(kind: str, options: dict, source: str, base_dir: Path | None) -> None:
    if all(options[k] is None for k in SEARCH_LIMITS):
        raise SpecError(f"{source}: a {kind} spec needs nodes, depth or movetime")
    if any(options[k] == 0 for k in SEARCH_LIMITS):
        raise SpecError(f"{source}: nodes, depth and movetime must be positive")
    if kind != "stockfish":
        return
    elo = options["elo"]
    if elo is not None and not ELO_RANGE[0] <= elo <= ELO_RANGE[1]:
        raise SpecError(f"{source}: elo must lie in {list(ELO_RANGE)}, got {elo}")
    if options["evalfile"] is not None:
        net = Path(options["evalfile"]).expanduser()
        if base_dir is not None and not net.is_absolute():
            net = base_dir / net
        if not net.is_file():
            raise SpecError(f"{source}: evalfile {str(net)!r} does not exist")
        # Stockfish wants a full path (docs/ENGINES.md#stockfish)
        options["evalfile"] = str(net.resolve())


def default_name(kind: str, options: dict) -> str:
    if kind == "gnugo":
        return f"gnugo-l{options['level']}"
    if kind == "leelaz":
        stem = Path(options["weights"]).name.split(".")[0]
        budget = (
            f"p{options['playouts']}"
            if options["playouts"] is not None
            else f"v{options['visits']}"
        )
        return f"leelaz-{stem}-{budget}"
    if kind == "stockfish":
        parts = ["sf"]
        if options["evalfile"]:
            parts.append(Path(options["evalfile"]).name.split(".")[0])
        if options["use_nnue"] is False:
            parts.append("classical")
        if options["elo"] is not None:
            parts.append(f"elo{options['elo']}")
        letters = {"nodes": "n", "depth": "d", "movetime": "t"}
        parts += [f"{letters[k]}{options[k]}" for k in SEARCH_LIMITS if options[k] is not None]
        return "-".join(parts)
    command = options["command"]
    program = Path(command[0]).name
    if program.startswith("python") and len(command) > 1:
        program = Path(command[1]).stem
    return program


def parse_flag(text: str, base_dir: Path | None = None) -> EngineSpec:
    """A spec from the command line: `KIND[:key=value,...]`, `gtp:COMMAND` or a YAML file."""
    source = f"engine spec {text!r}"
    name, text = _split_name(text)
    spec = _parse_unnamed(text, source, base_dir)
    if name:
        spec.name = name
    return spec


def _split_name(text: str) -> tuple[str | None, str]:
    """`NAME=SPEC` -> (NAME, SPEC) when the `=` comes before any `:` and NAME is a plain word."""
    head, eq, rest = text.partition("=")
    if eq and ":" not in head and head and all(c.isalnum() or c in "_.-" for c in head):
        return head, rest
    return None, text


def _parse_unnamed(text: str, source: str, base_dir: Path | None) -> EngineSpec:
    path = Path(text).expanduser()
    if text.endswith((".yaml", ".yml")):
        if not path.is_file():
            raise SpecError(f"{source}: no such file")
        return make_spec(load_yaml(path), str(path), path.parent)
    kind, _, rest = text.partition(":")
    if kind == "gtp":
        return make_spec({"kind": "gtp", "command": rest}, source, base_dir)
    if kind == "uci":  # uci:COMMAND LINE, or uci:nodes=N,...:COMMAND LINE (plain values)
        found = UCI_FLAG_HEAD.match(rest)
        if found:
            raw = _key_values(found.group(1), source)
            return make_spec({"kind": "uci", **raw, "command": found.group(2)}, source, base_dir)
        return make_spec({"kind": "uci", "command": rest}, source, base_dir)
    return make_spec({"kind": kind, **_key_values(rest, source)}, source, base_dir)


def _key_values(text: str, source: str) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for item in filter(None, text.split(",")):
        key, eq, value = item.partition("=")
        if not eq:
            raise SpecError(f"{source}: {item!r} is not key=value")
        raw[key.strip()] = yaml.safe_load(value) if value.strip() else None
    return raw


def load_yaml(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as err:
        raise SpecError(f"{path}: cannot read YAML: {err}") from None
