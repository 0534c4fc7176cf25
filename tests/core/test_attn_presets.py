"""The attention presets: they load, analyse, compile and learn on tiny data; decoding, padding masks, the date
variants and the standard size."""

import json
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from studio.catalog import modules as sm
from studio.compile import compile_network
from studio.graph import Analyzer, Project, io
from studio.presets import resolve
from studio.train.config import TrainConfig
from studio.train.events import EpochEnded, RunFinished
from studio.train.project_run import data_for, models_for, optimiser_settings
from studio.train.recipes.decoding import beam_search, greedy
from studio.train.recipes.seq2seq import shift_right, token_loss
from studio.train.trainer import Trainer

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "presets"))
import build_attention


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


def _run(name, epochs=2, out_dir=None):
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
                     lambda e: seen.append(e.metrics) if isinstance(e, EpochEnded) else None, out_dir=out_dir).run()
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
    # the source's padding is masked: each row spreads all its weight over the real source tokens
    assert all(abs(sum(r) - 1) < 1e-4 for r in heat["weights"])


def test_self_attention_reports_a_map_per_head(tmp_path):
    epochs, _, _ = _run("self_attention", epochs=1, out_dir=tmp_path)
    maps = epochs[-1]["attention_maps"]
    recorded = json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[-1])
    assert "attention_maps" not in recorded and "val_loss" in recorded  # a picture: for the window only
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


def _reference_greedy(model, src, length):
    """Decoding as written in the papers: every row, the full target, one position more each step."""
    target_in = torch.zeros(len(src), length, dtype=torch.long)
    target_in[:, 0] = 1
    out = torch.zeros_like(target_in)
    for t in range(length):
        out[:, t] = model(src, target_in)[:, t].argmax(-1)
        if t + 1 < length:
            target_in[:, t + 1] = out[:, t]
    ended = (out == 2).long().cumsum(1) - (out == 2).long() > 0  # after the first EOS
    return out.masked_fill(ended, 0)


def test_greedy_runs_short_prefixes_of_live_rows_and_matches_full_decoding():
    torch.manual_seed(0)
    network = compile_network(io.load(resolve("transformer"))).eval()
    src = torch.randint(3, 13, (16, 10))
    shapes = []

    def model(source, target_in):  # row i ends at position source[i, 0] - 3 (0 to 9): rows end at different steps
        shapes.append(tuple(target_in.shape))
        out = network(source, target_in).clone()
        stop = torch.arange(out.shape[1])[None, :] == source[:, :1] - 3
        out[..., 2] += 100.0 * stop
        return out

    def fixed_length(source, target_in):  # a network that takes only the length it was built for
        if target_in.shape[1] != 11:
            raise RuntimeError("shape mismatch")
        return model(source, target_in)

    with torch.no_grad():
        expected = _reference_greedy(model, src, 11)
        shapes.clear()
        assert torch.equal(greedy(model, src, 11), expected)
        assert [s[1] for s in shapes] == list(range(1, len(shapes) + 1))  # prefixes only
        assert shapes[-1][0] < 16  # ended rows are no longer run
        assert torch.equal(greedy(fixed_length, src, 11), expected)


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


def _padded(src, extra):
    return torch.cat([src, torch.zeros(len(src), extra, dtype=torch.long)], 1)


def test_transformer_ignores_the_source_padding():
    torch.manual_seed(0)
    project = io.load(resolve("transformer"))
    src, tgt = torch.randint(3, 13, (4, 10)), torch.randint(3, 13, (4, 11))
    src[:, 6:] = 0
    model = compile_network(project).eval()
    with torch.no_grad():
        assert torch.allclose(model(src, tgt), model(_padded(src, 5), tgt), atol=1e-5)
    # the same network with nothing marked as padding sees the extra positions
    net = project.network()
    net.set_params(net.by_name("source_padding").id, {"pad_index": 99})
    blind = compile_network(project).eval()
    blind.load_state_dict(model.state_dict())
    with torch.no_grad():
        assert (blind(src, tgt) - blind(_padded(src, 5), tgt)).abs().max() > 1e-3


def test_additive_attention_gives_padded_keys_no_weight():
    torch.manual_seed(0)
    att = sm.AdditiveAttention(6, 4, hidden_size=8)
    query, keys = torch.randn(2, 3, 6), torch.randn(2, 5, 4)
    mask = torch.tensor([[False] * 3 + [True] * 2, [False] * 5])
    context, weights = att(query, keys, mask)
    assert torch.all(weights[0, :, 3:] == 0) and torch.allclose(weights.sum(-1), torch.ones(2, 3))
    other = keys.clone()
    other[0, 3:] = 100.0  # whatever the padded keys hold
    assert torch.allclose(att(query, other, mask)[0], context, atol=1e-6)
    assert torch.allclose(att(query[:1], keys[:1, :3])[0], context[:1], atol=1e-6)  # as if they were not there
    everything = torch.ones(1, 5, dtype=torch.bool)  # an empty source: finite, not 0/0
    assert torch.isfinite(att(query[:1], keys[:1], everything)[0]).all()


@pytest.mark.parametrize("type_name, ports", [
    ("TransformerEncoderLayer", ("in",)), ("TransformerDecoderLayer", ("tgt", "memory")),
    ("AdditiveAttention", ("query", "keys")), ("MultiheadAttention", ("query", "key", "value")),
])
def test_mask_padding_adds_a_port_and_leaves_the_layer_alone_when_off(type_name, ports):
    project = Project()
    net = project.add_network()
    node = net.node(net.add_node(type_name, "layer"))
    assert net.ports(node)[0] == ports
    net.set_params(node.id, {"mask_padding": True})
    assert net.ports(node)[0] == (*ports, "padding_mask")


def test_encoder_layer_without_a_mask_is_torchs_own():
    project = io.load(resolve("bert_mini"))  # its encoder layers mask nothing: weights saved before still load
    keys = compile_network(project).state_dict()
    assert "encoder.0.layer.self_attn.in_proj_weight" in keys


@pytest.mark.parametrize("make", [build_attention.transformer, build_attention.seq2seq_attention])
def test_date_variants_fit_their_data(make):
    project = make(task="dates")
    assert Analyzer(project).analyse().ok
    training = {**project.training, "device": "cpu"}
    splits = data_for(project, training, {**project.data, "n": 40, "val_split": 0.0})
    src, tgt = (torch.stack(t) for t in zip(*(splits.train[i] for i in range(8))))
    assert src.shape == (8, 20) and tgt.shape == (8, 21)
    out = compile_network(project)(src, shift_right(tgt))
    assert out.shape == (8, 21, build_attention.VOCAB) and torch.isfinite(token_loss(out, tgt))
