#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine (run as root): the Debian engines,
# a virtual environment in .venv and the Python dependencies. Quick when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pkg in leela-zero gnugo stockfish; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-venv)
# The chess decoder is a C extension (setup.py): a compiler and the Python headers.
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc)
python3 -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
    >/dev/null 2>&1 || need_apt+=(python3-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "install: apt-get install ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_apt[@]}"
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
# Reinstall only when the dependency list or the C sources changed since the last install,
# or the compiled decoder is missing.
stale() {
    [ ! -f .venv/.install-stamp ] ||
        [ -n "$(find pyproject.toml setup.py src/zeroforge/chess/csrc -newer .venv/.install-stamp)" ] ||
        ! compgen -G 'src/zeroforge/chess/_decoder*.so' >/dev/null
}
if stale; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[dev]'
    touch .venv/.install-stamp
fi
