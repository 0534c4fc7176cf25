"""The RBM preset, its catalog node and the rbm recipe (CD-k)."""

import math

import torch

from studio.catalog.rbm import RBM
from studio.compile import compile_network
from studio.data import load_data
from studio.graph import Analyzer, io
from studio.presets import resolve
from studio.train import Trainer
from studio.train.events import EpochEnded
from studio.train.project_run import data_for, models_for, optimiser_settings
from studio.train.recipes.rbm import binarise, find_rbm, recon_error
from tests.core.test_train_support import one_thread  # noqa: F401  (autouse fixture)


def test_rbm_preset_loads_analyses_and_infers_the_visible_size():
    project = io.load(resolve("rbm"))
    report = Analyzer(project).analyse()
    assert report.ok, [str(p) for p in report.problems]
    net = project.network()
    rbm = net.by_name("rbm")
    assert report.nodes[rbm.id].resolved["visible"] == 64
    assert report.total_params == 64 * 64 + 64 + 64
    model = compile_network(project)
    assert model(torch.rand(3, 64)).shape == (3, 64)
    assert isinstance(find_rbm(model), RBM)
    scripted = torch.jit.script(find_rbm(model))
    assert scripted.cd_loss(torch.ones(2, 64)).dim() == 0


def test_cd_steps_lower_the_reconstruction_error_on_binarised_digits():
    torch.manual_seed(0)
    x = load_data({"source": "digits", "normalize": False, "val_split": 0.0, "max_samples": 256},
                  input_shape=(64,)).train.tensors[0]
    v = binarise(x)
    assert set(v.unique().tolist()) == {0.0, 1.0} and v.shape == (256, 64)
    rbm = RBM(64, hidden=32, k=1)
    optimizer = torch.optim.SGD(rbm.parameters(), lr=0.1, momentum=0.5)
    before = float(recon_error(rbm, v))
    for _ in range(30):
        for batch in v.split(32):
            optimizer.zero_grad()
            rbm.cd_loss(batch).backward()
            optimizer.step()
    after = float(recon_error(rbm, v))
    assert after < 0.75 * before, (before, after)


def test_rbm_recipe_runs_an_epoch_with_filters_and_reconstructions():
    project = io.load(resolve("rbm"))
    training = {**project.training, "epochs": 2, "device": "cpu"}
    torch.manual_seed(0)
    seen = []
    trainer = Trainer(models_for(project, training),
                      data_for(project, training, {**project.data, "max_samples": 200}),
                      optimiser_settings(training),
                      lambda e: seen.append(e.metrics) if isinstance(e, EpochEnded) else None)
    result = trainer.run()
    assert result.reason == "completed", result
    first, last = seen
    assert math.isfinite(last["recon_error"]) and last["recon_error"] == last["val_recon_error"]
    assert last["train_loss"] < first["train_loss"]
    assert torch.tensor(last["filters"]).shape == (16, 1, 8, 8)
    assert torch.tensor(last["samples_images"]).shape == (8, 1, 8, 8)
    assert torch.tensor(last["samples_inputs"]).shape == (8, 1, 8, 8)
    assert "filters" not in trainer.history[-1]  # pictures stay out of metrics.jsonl


def test_rbm_recipe_refuses_normalised_data():
    project = io.load(resolve("rbm"))
    training = {**project.training, "epochs": 1, "device": "cpu"}
    trainer = Trainer(models_for(project, training),
                      data_for(project, training, {**project.data, "normalize": True, "max_samples": 50}),
                      optimiser_settings(training))
    result = trainer.run()
    assert "normalize" in result.message


def test_the_importer_knows_the_rbm_as_studios_own_module_in_its_own_file():
    """The RBM lives in catalog/rbm.py, beside modules.py: import still takes it for studio's own module."""
    from studio.export.import_rules import is_studio_module

    assert is_studio_module(RBM(6, 4))
    assert not is_studio_module(torch.nn.Linear(6, 4))
