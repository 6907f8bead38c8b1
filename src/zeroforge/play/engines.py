"""Where the engine binaries are. Debian installs them in /usr/games, which is not on root's
PATH (docs/ENGINES.md#installing-and-paths), so names are resolved by environment override, then PATH, then /usr/games."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

DEBIAN_GAMES = Path("/usr/games")
ENV_OVERRIDE = {
    "leelaz": "ZEROFORGE_LEELAZ",
    "gnugo": "ZEROFORGE_GNUGO",
    "stockfish": "ZEROFORGE_STOCKFISH",
}


class EngineNotFound(FileNotFoundError):
    pass


def engine_path(name: str) -> str:
    """Absolute path of an engine binary (`leelaz`, `gnugo`, `stockfish` or any program)."""
    override = os.environ.get(ENV_OVERRIDE.get(name, ""), "")
    if override:
        if not os.access(override, os.X_OK):
            raise EngineNotFound(f"{ENV_OVERRIDE[name]}={override} is not an executable file")
        return os.path.abspath(override)
    found = shutil.which(name)
    if found:
        return os.path.abspath(found)
    candidate = DEBIAN_GAMES / name
    if os.access(candidate, os.X_OK):
        return str(candidate)
    raise EngineNotFound(
        f"engine {name!r} not found on PATH or in {DEBIAN_GAMES}; install the Debian package "
        "(apt-get install --no-install-recommends leela-zero gnugo stockfish) or set "
        f"{ENV_OVERRIDE.get(name, 'the path in the engine spec')}"
    )


def have_engine(name: str) -> bool:
    try:
        engine_path(name)
    except EngineNotFound:
        return False
    return True


def resolve_binary(program: str) -> str:
    """Absolute path of `program`: a path (with a `/`) must be an executable file; a bare name
    is looked up like `engine_path` (environment override, PATH, /usr/games)."""
    if os.sep in program:
        path = os.path.abspath(os.path.expanduser(program))
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise EngineNotFound(f"engine binary {program!r} is not an executable file")
        return path
    return engine_path(program)
