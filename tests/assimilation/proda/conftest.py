"""One torch thread in these tests: the CI machines are shared, and oversubscribed threads make
small-batch training 10× slower (measured: 8 ms vs 60–150 ms per batch of 32)."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
