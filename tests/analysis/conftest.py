"""Fixtures of the analysis tests: the real Stockfish 15.1 net, exported once per session."""

from __future__ import annotations

import pytest

from zeroforge.play.engines import have_engine

from .stockfish_net import export_stockfish_net


@pytest.fixture(scope="session")
def sf15_net_path(tmp_path_factory):
    if not have_engine("stockfish"):
        pytest.skip("stockfish 15.1 is not installed (apt-get install stockfish)")
    return export_stockfish_net(tmp_path_factory.mktemp("sf15"))
