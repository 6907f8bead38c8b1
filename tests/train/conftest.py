"""Training tests run torch on one thread: with two threads on a busy 2-core machine (pytest -n 2
beside other work) every step waits on the other thread and runs many times slower."""

import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
