"""The sequence and text presets: they load, analyse, compile and learn on tiny generated data."""

import math

import pytest
import torch

from studio.compile import compile_network
from studio.errors import TrainingError
from studio.graph import Analyzer, io
from studio.presets import resolve
from studio.train.config import TrainConfig
from studio.train.events import EpochEnded, RunFinished
from studio.train.project_run import data_for, models_for, optimiser_settings
from studio.train.recipes.skipgram import nearest_words, project_2d
from studio.train.trainer import Trainer



@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread: on a busy 2-core machine, two spinning threads make a small LSTM 100× slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# name -> (task, small data settings, small training settings)
TINY = {
    "rnn_classifier": ("classification", {"n": 320}, {"batch_size": 32}),
    "lstm_classifier": ("classification", {"n": 320}, {"batch_size": 32}),
    "gru_classifier": ("classification", {"n": 320}, {"batch_size": 32}),
    "fasttext": ("classification", {"n": 320}, {"batch_size": 32}),
    "lstm_lm": ("language_model", {"n": 80, "stride": 16}, {"batch_size": 16, "sample_length": 30}),
    "word2vec": ("word_embedding", {"n": 300}, {"batch_size": 256}),
}


def _run(name, data=None, training=None, epochs=3):
    project = io.load(resolve(name))
    _, small_data, small_training = TINY[name]
    training = {**project.training, **small_training, "epochs": epochs, "device": "cpu", **(training or {})}
    data = {**project.data, **small_data, **(data or {})}
    models = models_for(project, training)
    splits = data_for(project, training, data)
    epochs_seen = []

    def callback(event):
        if isinstance(event, EpochEnded):
            epochs_seen.append(event.metrics)

    result = Trainer(models, splits, optimiser_settings(training), callback).run()
    assert isinstance(result, RunFinished), getattr(result, "message", result)
    return epochs_seen, splits


@pytest.mark.parametrize("name", sorted(TINY))
def test_preset_loads_analyses_and_compiles(name):
    project = io.load(resolve(name))
    report = Analyzer(project).analyse()
    assert report.ok, [str(p) for p in report.problems]
    meta = project.metadata
    assert meta["task"] == TINY[name][0] and meta["description"] and len(meta["about"]) > 80
    TrainConfig.from_dict(optimiser_settings(project.training))
    model = compile_network(project)
    model.graph.lint()
    shape = next(n for n in project.network().nodes.values() if n.type == "Input").params["shape"]
    out = model(torch.zeros(2, *shape, dtype=torch.long))
    assert out.shape[0] == 2 and torch.isfinite(out).all()


@pytest.mark.parametrize("name", ["rnn_classifier", "lstm_classifier", "gru_classifier", "fasttext"])
def test_classifier_presets_learn(name):
    epochs, _ = _run(name)
    assert epochs[-1]["train_loss"] < epochs[0]["train_loss"] - 0.02
    assert 0.0 <= epochs[-1]["val_accuracy"] <= 1.0


def test_fasttext_reaches_good_accuracy_fast():
    epochs, _ = _run("fasttext", training={"lr": 0.02}, epochs=4)
    assert epochs[-1]["val_accuracy"] > 0.7


def test_lstm_language_model_learns_and_writes_samples():
    epochs, splits = _run("lstm_lm")
    first, last = epochs[0], epochs[-1]
    assert last["train_loss"] < first["train_loss"] and last["val_loss"] < first["val_loss"]
    vocab = splits.num_classes
    assert math.isfinite(last["val_perplexity"]) and last["val_perplexity"] < vocab
    assert last["val_perplexity"] == pytest.approx(math.exp(last["val_loss"]), rel=1e-6)
    texts = last["samples_text"]
    assert len(texts) == 2 and all(t.startswith("the ") and len(t) == 4 + 30 for t in texts)
    assert set("".join(texts)) <= set(splits.class_names)


def test_word2vec_learns_and_reports_neighbours_and_a_2d_map():
    epochs, splits = _run("word2vec")
    first, last = epochs[0], epochs[-1]
    assert last["train_loss"] < first["train_loss"] - 0.1
    assert last["val_loss"] < first["val_loss"] and last["val_accuracy"] > first["val_accuracy"]
    neighbours = last["neighbours"]
    assert set(neighbours) == {"cat", "soup", "rain", "player", "forest", "sweet", "blows", "stadium"} & set(
        splits.class_names)
    assert neighbours and all(len(v) == 5 and k not in v for k, v in neighbours.items())
    emb = last["embedding_2d"]
    assert len(emb["words"]) == len(emb["xy"]) > 10 and all(len(p) == 2 for p in emb["xy"])


def test_word2vec_trains_as_cbow_with_the_wider_input():
    epochs, splits = _run("word2vec", data={"mode": "cbow"}, training={"input_shape": [10]}, epochs=2)
    assert splits.input_shape == (10,)
    assert epochs[-1]["train_loss"] < epochs[0]["train_loss"]


def test_nearest_words_and_projection_on_known_vectors():
    words = ["a", "b", "c", "d"]
    vectors = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [-1.0, 0.0]])
    assert nearest_words(vectors, words, ["a", "zzz"], k=2) == {"a": ["b", "c"]}
    emb = project_2d(vectors, words)
    assert emb["words"] == words and len(emb["xy"]) == 4


def test_recipe_settings_are_checked():
    config = TrainConfig.from_dict({"recipe": "skipgram", "probe_words": ["cat"], "temperature": 0.5})
    assert config.probe_words == ["cat"] and config.to_dict()["probe_words"] == ["cat"]
    for bad in ({"probe_words": "cat"}, {"temperature": 0}, {"sample_prompt": 3}, {"recipe": "skipgrams"}):
        with pytest.raises(TrainingError):
            TrainConfig.from_dict(bad)


def test_a_recipe_refuses_data_of_another_task():
    project = io.load(resolve("lstm_classifier"))
    training = {**project.training, "recipe": "language_model"}
    splits = data_for(project, training, {**project.data, "n": 40})
    with pytest.raises(TrainingError, match="language_model recipe"):
        Trainer(models_for(project, training), splits, optimiser_settings(training))
