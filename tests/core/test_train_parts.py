"""The tables and helpers of studio.train: losses, optimizers, schedules, loaders, files."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.data import DataLoader, Subset, TensorDataset

from studio.data import DataSplits
from studio.errors import TrainingError
from studio.train import EpochEnded, RunFinished, TrainConfig, Trainer, load_weights, run_training
from studio.train import checkpoint as ckpt
from studio.train import devices
from studio.train.losses import LOSSES, adapt_target, predict_classes
from studio.train.optim import OPTIMIZERS, SCHEDULES, Schedule, build_optimizer
from studio.train.loaders import (
    EpochSampler, InMemoryBatches, TensorBatches, eval_loader, fast_view,
)
from studio.train.recipes import RECIPES
from tests.core.test_train_support import (  # one_thread: an autouse fixture
    Recorder, classification_splits, mlp, one_thread, regression_splits,  # noqa: F401
)

BASE = {"epochs": 1, "batch_size": 32, "lr": 0.01, "device": "cpu"}

# What each loss expects the network to end in.
HEADS = {
    "cross_entropy": nn.Identity(), "bce_logits": nn.Identity(), "mse": nn.Identity(),
    "l1": nn.Identity(), "bce": nn.Sigmoid(), "kl_div": nn.LogSoftmax(dim=1),
    "nll": nn.LogSoftmax(dim=1),
}


def changed(before, model):
    return any(not torch.equal(before[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_every_loss_trains_a_classifier(loss):
    model = nn.Sequential(mlp(), HEADS[loss])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rec = Recorder()
    result = Trainer({"model": model}, classification_splits(), {**BASE, "loss": loss, "epochs": 3,
                                                                 "lr": 0.05},
                     callback=rec).run()
    assert isinstance(result, RunFinished), getattr(result, "message", "")
    assert changed(before, model)
    losses = [e.metrics["train_loss"] for e in rec.of(EpochEnded)]
    assert losses[-1] < losses[0], loss
    assert 0 <= rec.of(EpochEnded)[-1].metrics["val_accuracy"] <= 1


def test_binary_bce_on_one_output_unit():
    data = classification_splits(classes=2)
    model = nn.Sequential(mlp(classes=1), nn.Sigmoid())
    rec = Recorder()
    Trainer({"model": model}, data, {**BASE, "loss": "bce", "epochs": 5, "lr": 0.05},
            callback=rec).run()
    assert rec.of(EpochEnded)[-1].metrics["val_accuracy"] > 0.9


@pytest.mark.parametrize("loss", ["mse", "l1"])
def test_regression_losses(loss):
    model = nn.Linear(3, 1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = Trainer({"model": model}, regression_splits(), {**BASE, "loss": loss}).run()
    assert isinstance(result, RunFinished) and changed(before, model)


def test_targets_are_shaped_for_each_loss():
    out3, out1 = torch.zeros(4, 3), torch.zeros(4, 1)
    y = torch.tensor([0, 2, 1, 2])
    assert adapt_target("cross_entropy", out3, y) is y
    assert torch.equal(adapt_target("mse", out3, y), torch.eye(3)[y])
    assert adapt_target("bce", out1, torch.tensor([0, 1, 1, 0])).shape == (4, 1)
    assert adapt_target("mse", out1, torch.ones(4)).shape == (4, 1)
    assert torch.equal(predict_classes("bce_logits", torch.tensor([[-1.0], [2.0]])),
                       torch.tensor([0, 1]))
    assert torch.equal(predict_classes("bce", torch.tensor([[0.4], [0.6]])), torch.tensor([0, 1]))


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_every_optimizer_takes_a_step(optimizer):
    model = mlp()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    settings = {**BASE, "optimizer": optimizer, "weight_decay": 0.01}
    if optimizer == "sgd":
        settings["nesterov"] = True
    result = Trainer({"model": model}, classification_splits(), settings).run()
    assert isinstance(result, RunFinished) and changed(before, model)


def test_optimizer_settings_reach_torch():
    params = list(mlp().parameters())
    sgd = build_optimizer(params, TrainConfig(optimizer="sgd", lr=0.2, momentum=0.8,
                                              nesterov=True, weight_decay=0.1))
    assert isinstance(sgd, torch.optim.SGD)
    assert {k: sgd.defaults[k] for k in ("lr", "momentum", "nesterov", "weight_decay")} == {
        "lr": 0.2, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}
    adamw = build_optimizer(params, TrainConfig(optimizer="adamw", betas=[0.8, 0.95]))
    assert isinstance(adamw, torch.optim.AdamW) and adamw.defaults["betas"] == (0.8, 0.95)


def lrs(schedule, epochs=4, steps=5, metrics=None, **extra):
    """The lr at the start of each batch over a run, stepping like the recipe does."""
    config = TrainConfig(schedule=schedule, epochs=epochs, lr=1.0, optimizer="sgd", **extra)
    opt = build_optimizer([nn.Parameter(torch.zeros(1))], config)
    sched = Schedule(opt, config, steps)
    seen = []
    for epoch in range(1, epochs + 1):
        for _ in range(steps):
            seen.append(sched.lr)
            opt.step()
            sched.after_batch()
        sched.after_epoch(epoch, (metrics or [1.0] * epochs)[epoch - 1])
    return seen, sched


def test_schedules_shape_the_learning_rate():
    none, _ = lrs("none")
    assert none == [1.0] * 20
    step, _ = lrs("step", step_size=1, gamma=0.5)
    assert step[0] == 1.0 and step[5] == pytest.approx(0.5) and step[15] == pytest.approx(0.125)
    cosine, _ = lrs("cosine", min_lr=0.0)
    assert cosine[0] == 1.0 and cosine[-1] < 0.02 and cosine == sorted(cosine, reverse=True)
    onecycle, _ = lrs("onecycle")
    peak = onecycle.index(max(onecycle))
    assert 0 < peak < 19 and onecycle[0] < 0.1 and onecycle[-1] < 0.01
    assert max(onecycle) == pytest.approx(1.0, rel=0.05)
    plateau, _ = lrs("plateau", plateau_patience=0, plateau_factor=0.5, metrics=[1, 1, 1, 1])
    assert plateau[:10] == [1.0] * 10 and plateau[10] == 0.5 and plateau[15] == 0.25


def test_warmup_rises_linearly_then_hands_over():
    warm, _ = lrs("cosine", warmup_epochs=1)
    assert warm[:5] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert warm[5] == pytest.approx(1.0) and warm[-1] < 0.2
    plain, _ = lrs("none", warmup_epochs=2)
    assert plain[0] == pytest.approx(0.1) and plain[10:] == pytest.approx([1.0] * 10)


def test_every_schedule_trains_and_has_a_table_entry():
    assert set(SCHEDULES) == {"none", "step", "cosine", "onecycle", "plateau"}
    for schedule in SCHEDULES:
        result = Trainer({"model": mlp()}, classification_splits(),
                         {**BASE, "epochs": 2, "schedule": schedule, "warmup_epochs": 1}).run()
        assert isinstance(result, RunFinished), schedule


def test_schedule_state_round_trips_through_a_checkpoint(tmp_path):
    _, sched = lrs("cosine", warmup_epochs=1)
    ckpt.atomic_save({"s": sched.state_dict()}, tmp_path / "s.pt")
    state = torch.load(tmp_path / "s.pt", weights_only=True)["s"]
    _, fresh = lrs("cosine", epochs=4, steps=5, warmup_epochs=1)
    fresh.load_state_dict(state)
    assert fresh.per_step.last_epoch == sched.per_step.last_epoch


def test_recipes_table_has_supervised():
    recipe = RECIPES["supervised"]()
    assert recipe.roles == ("model",)
    assert "val_accuracy" in recipe.metric_names(classification_splits())
    assert "val_r2" in recipe.metric_names(regression_splits())


def test_in_memory_batches_equal_a_dataloader():
    x, y = torch.arange(40.0).reshape(20, 2), torch.arange(20)
    subset = Subset(Subset(TensorDataset(x, y), list(range(2, 20))), [5, 1, 7, 3, 0, 9, 2])
    sampler = EpochSampler(subset, num_replicas=2, rank=1, seed=4)
    sampler.set_epoch(3)
    ours = list(InMemoryBatches(fast_view(subset), 2, sampler))
    theirs = list(DataLoader(subset, batch_size=2, sampler=sampler))
    assert len(ours) == len(theirs) == 2
    for (xa, ya), (xb, yb) in zip(ours, theirs):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
    assert fast_view(TensorBatches([x])) is None  # anything else goes through DataLoader
    assert isinstance(eval_loader(subset, 4, num_workers=0), InMemoryBatches)


def test_epoch_sampler_tensor_order_is_the_distributed_samplers():
    for n, world in [(10, 1), (7, 2), (5, 3), (1, 4)]:
        for rank in range(world):
            sampler = EpochSampler(TensorDataset(torch.zeros(n)), num_replicas=world, rank=rank,
                                   seed=11)
            for epoch in (0, 1, 2):
                sampler.set_epoch(epoch)
                assert sampler.index_tensor().tolist() == list(sampler)


def test_atomic_files_and_weights_loading(tmp_path):
    model = mlp()
    ckpt.atomic_save(model.state_dict(), tmp_path / "final.pt")
    ckpt.atomic_save({"model": model.state_dict(), "critic": mlp(seed=1).state_dict()},
                     tmp_path / "two.pt")
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]
    assert torch.equal(load_weights(tmp_path / "final.pt")["0.weight"], model[0].weight)
    assert torch.equal(load_weights(tmp_path / "two.pt", "critic")["0.weight"],
                       mlp(seed=1)[0].weight)
    with pytest.raises(TrainingError, match="'actor'.*critic"):
        load_weights(tmp_path / "two.pt", "actor")
    ckpt.atomic_link(tmp_path / "final.pt", tmp_path / "copy.pt")
    assert (tmp_path / "copy.pt").read_bytes() == (tmp_path / "final.pt").read_bytes()


def test_metrics_lines_are_strict_json(tmp_path):
    ckpt.append_metrics(tmp_path / "m.jsonl", {"epoch": 1, "val_loss": math.nan,
                                                "x": [math.inf, 1.0]})
    expected = '{"epoch": 1, "val_loss": null, "x": [null, 1.0]}\n'
    assert (tmp_path / "m.jsonl").read_text() == expected


def test_devices_choose_the_cpu_here_and_refuse_what_is_missing():
    if not torch.cuda.is_available():
        assert devices.resolve_device("auto").type in ("cpu", "mps")
        with pytest.raises(TrainingError, match="CUDA is not available"):
            devices.resolve_device("cuda")
    cpu = torch.device("cpu")
    assert devices.resolve_device("cpu") == cpu
    assert not devices.use_mixed_precision(cpu, "auto")
    assert not devices.use_mixed_precision(cpu, True)
    assert not devices.use_channels_last(cpu, "auto", (3, 8, 8))
    assert devices.use_channels_last(cpu, True, (3, 8, 8))
    assert not devices.use_channels_last(torch.device("cuda", 0), "auto", (16,))
    assert devices.use_channels_last(torch.device("cuda", 0), "auto", (3, 8, 8))


def test_run_training_shows_progress_on_stderr(tmp_path, capsys):
    rec = Recorder()
    result = run_training({"model": mlp()}, classification_splits(), {**BASE, "epochs": 2},
                          tmp_path, progress=True, callback=rec)
    err = capsys.readouterr().err
    assert isinstance(result, RunFinished) and rec.events[-1] is result
    assert "epoch 2/2" in err and "val accuracy" in err and "samples/s" in err
    assert "final.pt" in err
    quiet = run_training({"model": mlp()}, classification_splits(), BASE, None, progress=False)
    assert isinstance(quiet, RunFinished) and capsys.readouterr().err == ""


def test_classification_metrics_rows_are_true_classes():
    from studio.train.metrics import classification_metrics

    m = classification_metrics(torch.tensor([0, 0, 1, 2, 2]), torch.tensor([0, 1, 1, 2, 0]), 4)
    assert m["confusion"] == [[1, 0, 1, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    assert m["accuracy"] == pytest.approx(0.6)
    assert m["precision"][:3] == pytest.approx([0.5, 1.0, 0.5])
    assert m["recall"][:3] == pytest.approx([0.5, 0.5, 1.0])
    assert m["f1"][3] == 0.0 and m["macro_f1"] == pytest.approx((0.5 + 2 / 3 + 2 / 3) / 4)


@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 4)), min_size=1, max_size=60))
@settings(max_examples=60, deadline=None)
def test_classification_metrics_equal_scikit_learns(pairs):
    """Predictions may fall outside the 5 known classes (a 1000-way head on the digits)."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    from studio.train.metrics import classification_metrics

    preds, targets = (list(v) for v in zip(*pairs))
    m = classification_metrics(torch.tensor(preds), torch.tensor(targets), 5)
    precision, recall, f1, _ = precision_recall_fscore_support(targets, preds, labels=list(range(5)),
                                                               zero_division=0)
    assert m["confusion"] == confusion_matrix(targets, preds, labels=list(range(5))).tolist()
    assert m["precision"] == pytest.approx(precision.tolist(), abs=1e-6)
    assert m["recall"] == pytest.approx(recall.tolist(), abs=1e-6)
    assert m["f1"] == pytest.approx(f1.tolist(), abs=1e-6)
    assert m["macro_f1"] == pytest.approx(f1.mean(), abs=1e-6)


class PairList(torch.utils.data.Dataset):
    """Not a TensorDataset: goes through torch's DataLoader and its collate."""

    def __init__(self, data):
        self.data = data

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        return self.data[i]


def test_other_datasets_go_through_a_dataloader_with_the_same_batches():
    data = classification_splits()
    wrapped = DataSplits(PairList(data.train), PairList(data.val), None, data.input_shape,
                         data.task, data.num_classes, data.class_names, None, None)
    fast, slow = mlp(), mlp()
    Trainer({"model": fast}, data, {**BASE, "epochs": 2}).run()
    Trainer({"model": slow}, wrapped, {**BASE, "epochs": 2}).run()
    for key, value in fast.state_dict().items():
        assert torch.equal(value, slow.state_dict()[key]), key


def test_channels_last_on_request_even_on_the_cpu():
    from tests.core.test_train_support import image_splits, small_cnn

    model = small_cnn()
    rec = Recorder()
    Trainer({"model": model}, image_splits(), {**BASE, "channels_last": True}, callback=rec).run()
    assert rec.events[0].channels_last and not rec.events[0].mixed_precision
    assert model[0].weight.is_contiguous(memory_format=torch.channels_last)


def test_trains_on_the_bundled_digits_from_studio_data():
    from studio.data import load_data

    data = load_data({"source": "digits"}, input_shape=(1, 8, 8))
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Flatten(),
                          nn.Linear(8 * 64, 10))
    rec = Recorder()
    result = Trainer({"model": model}, data, {**BASE, "epochs": 2, "lr": 0.005},
                     callback=rec).run()
    assert isinstance(result, RunFinished)
    metrics = rec.of(EpochEnded)[-1].metrics
    assert metrics["val_accuracy"] > 0.85
    assert len(metrics["val_confusion"]) == 10 and len(metrics["samples"]) == 8


def test_in_memory_batches_can_move_to_the_device_once():
    from studio.train.loaders import device_budget

    x, y = torch.arange(40.0).reshape(20, 2), torch.arange(20)
    subset = Subset(TensorDataset(x, y), list(range(3, 17)))
    sampler = EpochSampler(subset, num_replicas=1, rank=0, seed=2)
    before = list(InMemoryBatches(fast_view(subset), 4, sampler))
    batches = InMemoryBatches(fast_view(subset), 4, sampler)
    assert not batches.keep_on(torch.device("cpu"), max_bytes=10)  # too big: stays
    assert batches.keep_on(torch.device("cpu"), max_bytes=1 << 20)
    after = list(batches)
    assert len(after) == len(before) == 4
    for (xa, ya), (xb, yb) in zip(before, after):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
    assert device_budget(torch.device("cpu")) == 0  # only CUDA gains from it


def test_events_round_trip_through_json():
    import json as _json

    from studio.train import RunFailed, event_from_dict, event_to_dict

    for event in (RunFinished("early_stopped", {"val_loss": 0.5}, 3, 5, "out/final.pt", None),
                  RunFailed("boom", 2, 7, "out/last.pt", "", "out_of_memory"),
                  EpochEnded(1, {"train_loss": 0.25, "val_confusion": [[1, 0], [0, 1]]})):
        d = _json.loads(_json.dumps(event_to_dict(event)))
        assert d["event"] == type(event).__name__
        assert event_from_dict(d) == event


def test_returns_and_exact_matches_are_higher_is_better():
    from studio.train.metrics import higher_is_better

    assert higher_is_better("val_return") and higher_is_better("val_exact_match") and higher_is_better("val_accuracy")
    assert not higher_is_better("val_loss") and not higher_is_better("val_perplexity")
