"""Shared by the tests of code that imported projects keep and run: a trust list of each test's own
(`studio.trust`), and the check that a module's own checkpoint loads into its import and computes the same."""

import pytest
import torch

from studio.compile import compile_network
from studio.compile.weights import apply_weights, load_weights


@pytest.fixture(autouse=True)
def own_trust_list(tmp_path, monkeypatch):
    """An empty trust list of this test's own; nothing trusted for the process beyond what the test allows."""
    monkeypatch.setenv("STUDIO_TRUST_FILE", str(tmp_path / "trusted.json"))
    monkeypatch.delenv("STUDIO_TRUSTED_CODE", raising=False)
    monkeypatch.delenv("STUDIO_TRUST_ALL_CODE", raising=False)


def assert_checkpoint_loads(result, module, x, atol=1e-6):
    """`module`'s state_dict, under its own keys, loads into the imported network, which then computes the same
    on `x`; `result` is the ImportResult."""
    assert set(result.original_keys.values()) == set(module.state_dict())
    model = compile_network(result.project)
    apply_weights(model, load_weights(result.project, module.state_dict()))
    model.eval()
    with torch.no_grad():
        args = x if isinstance(x, tuple) else (x,)  # several inputs: a tuple
        torch.testing.assert_close(model(*args), module(*args), rtol=0, atol=atol)
