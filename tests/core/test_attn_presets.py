"""The attention presets: they load, analyse, compile and learn on tiny data; decoding and the standard size."""

import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from studio.compile import compile_network
from studio.graph import Analyzer, io
from studio.presets import resolve
from studio.train.config import TrainConfig
from studio.train.events import EpochEnded, RunFinished
from studio.train.project_run import data_for, models_for, optimiser_settings
from studio.train.recipes.decoding import beam_search, greedy
from studio.train.trainer import Trainer

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "presets"))
import build_attention  # noqa: E402


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# name -> (small data settings, small training settings)
TINY = {
    "seq2seq_attention": ({"n": 400, "length": 6}, {"batch_size": 32, "beam_width": 2}),
    "transformer": ({"n": 400, "length": 6}, {"batch_size": 32, "beam_width": 2}),
    "self_attention": ({"n": 320}, {"batch_size": 32}),
    "bert_mini": ({"n": 320}, {"batch_size": 32}),
}


def _shapes(project):
    return [tuple(n.params["shape"]) for n in project.network().iter_nodes() if n.type == "Input"]


def _run(name, epochs=2):
    project = io.load(resolve(name))
    small_data, small_training = TINY[name]
    if "length" in small_data:  # a shorter source: set both Inputs to match
        net = project.network()
        for node, size in zip([n for n in net.iter_nodes() if n.type == "Input"], (6, 7)):
            net.set_params(node.id, {"shape": [size]})
    training = {**project.training, **small_training, "epochs": epochs, "device": "cpu"}
    models = models_for(project, training)
    splits = data_for(project, training, {**project.data, **small_data})
    seen = []
    result = Trainer(models, splits, optimiser_settings(training),
                     lambda e: seen.append(e.metrics) if isinstance(e, EpochEnded) else None).run()
    assert isinstance(result, RunFinished), getattr(result, "message", result)
    return seen, models["model"], splits


@pytest.mark.parametrize("name", sorted(TINY))
def test_preset_loads_analyses_and_compiles(name):
    project = io.load(resolve(name))
    report = Analyzer(project).analyse()
    assert report.ok, [str(p) for p in report.problems]
    assert project.metadata["description"] and len(project.metadata["about"]) > 80
    TrainConfig.from_dict(optimiser_settings(project.training))
    model = compile_network(project)
    model.graph.lint()
    out = model(*(torch.zeros(2, *s, dtype=torch.long) for s in _shapes(project)))
    assert out.shape[0] == 2 and torch.isfinite(out).all()


@pytest.mark.parametrize("name", sorted(TINY))
def test_preset_learns(name):
    epochs, _, _ = _run(name)
    assert epochs[-1]["train_loss"] < epochs[0]["train_loss"]
    assert epochs[-1]["val_loss"] < epochs[0]["val_loss"]


def test_seq2seq_reports_exact_match_and_an_attention_heat_map():
    epochs, _, splits = _run("seq2seq_attention", epochs=1)
    m = epochs[-1]
    assert 0 <= m["val_exact_match"] <= 1 and 0 <= m["val_exact_match_beam"] <= 1 and m["val_token_accuracy"] > 0
    heat = m["attention"]
    assert heat["source"] and heat["target"] and heat["target"][-1] in splits.class_names
    assert len(heat["weights"]) == len(heat["target"]) and all(len(r) == len(heat["source"]) for r in heat["weights"])
    # each row is the softmax over the whole padded source: its part over real tokens is at most 1
    assert all(0 < sum(r) <= 1 + 1e-5 for r in heat["weights"])


def test_self_attention_reports_a_map_per_head():
    epochs, _, _ = _run("self_attention", epochs=1)
    maps = epochs[-1]["attention_maps"]
    assert len(maps["heads"]) == 4 and len(maps["tokens"]) == 20
    assert all(len(h) == 20 and all(len(r) == 20 and abs(sum(r) - 1) < 1e-4 for r in h) for h in maps["heads"])


def test_bert_mini_reports_masked_accuracy():
    epochs, _, _ = _run("bert_mini", epochs=1)
    assert 0 < epochs[-1]["val_masked_accuracy"] <= 1


@pytest.mark.parametrize("name", ["transformer", "seq2seq_attention"])
def test_beam_width_one_is_greedy(name):
    torch.manual_seed(0)
    model = compile_network(io.load(resolve(name))).eval()
    src = torch.randint(3, 13, (16, 10))
    expected = greedy(model, src, 11)
    for alpha in (0.0, 1.0):
        assert torch.equal(beam_search(model, src, 11, width=1, alpha=alpha), expected)
    wide = beam_search(model, src, 11, width=4)
    assert wide.shape == expected.shape


def test_beam_search_finds_the_likelier_sequence_greedy_misses():
    # Step 0: "a" (0.6) or "b" (0.4); after "a" every token is equally likely, after "b", EOS is certain.
    a, b, eos, vocab = 3, 4, 2, 5

    def model(src, target_in):
        n, t = target_in.shape
        logits = torch.full((n, t, vocab), -30.0)
        logits[:, 0, a], logits[:, 0, b] = torch.log(torch.tensor(0.6)), torch.log(torch.tensor(0.4))
        for i in range(1, t):
            after_b = target_in[:, 1] == b
            logits[:, i, :] = torch.where(after_b[:, None], torch.full((n, vocab), -30.0), torch.zeros(n, vocab))
            logits[after_b, i, eos] = 0.0
        return logits

    src = torch.zeros(1, 3, dtype=torch.long)
    assert greedy(model, src, 3)[0, 0] == a
    assert beam_search(model, src, 3, width=2)[0].tolist()[:2] == [b, eos]


def test_standard_transformer_has_torchs_parameter_count():
    project = build_attention.transformer(size="standard")
    report = Analyzer(project).analyse()
    assert report.ok, [str(p) for p in report.problems]
    vocab = build_attention.VOCAB
    reference = [nn.Transformer(), nn.Embedding(vocab, 512), nn.Embedding(vocab, 512), nn.Linear(512, vocab)]
    expected = sum(p.numel() for m in reference for p in m.parameters())
    assert report.total_params == expected
    small = Analyzer(build_attention.transformer()).analyse().total_params
    assert small < expected // 50
