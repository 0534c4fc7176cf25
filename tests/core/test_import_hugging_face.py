"""A classifier written around a Hugging Face model imports: the transformers model comes in as one
"Module" node built from its config, with transformers' own tracer where it has one (4.x) and without."""

import json
import sys
import textwrap

import pytest
import torch

from studio.cli import main
from studio.export import import_from_path
from studio.export.import_trace import trace
from studio.user_code import load_class
from tests.core.kept_code import assert_checkpoint_loads, own_trust_list  # noqa: F401 (autouse)

transformers = pytest.importorskip("transformers")

# As people write it: a tiny BERT built from a config (nothing downloaded), the [CLS] token's state
# through a head; and a GPT-2 read at its last token.
MODELS = textwrap.dedent('''
    from torch import nn
    from transformers import BertConfig, BertForSequenceClassification, BertModel, GPT2Config, GPT2Model


    class TextClassifier(nn.Module):
        def __init__(self, num_labels=3):
            super().__init__()
            config = BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                intermediate_size=64, vocab_size=100, max_position_embeddings=64)
            self.bert = BertModel(config, add_pooling_layer=False)
            self.dropout = nn.Dropout(0.1)
            self.classifier = nn.Linear(config.hidden_size, num_labels)

        def forward(self, input_ids):
            hidden = self.bert(input_ids=input_ids).last_hidden_state
            return self.classifier(self.dropout(hidden[:, 0]))


    class FineTuned(nn.Module):
        """A classification model of the library, its labels named in the config (id2label: integer keys)."""

        def __init__(self):
            super().__init__()
            config = BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                                vocab_size=100, id2label={0: "negative", 1: "positive"})
            self.model = BertForSequenceClassification(config)

        def forward(self, input_ids):
            return self.model(input_ids=input_ids).logits


    class NextTokenScore(nn.Module):
        def __init__(self):
            super().__init__()
            self.gpt = GPT2Model(GPT2Config(n_embd=32, n_layer=2, n_head=2, vocab_size=100, n_positions=64))
            self.score = nn.Linear(32, 2)

        def forward(self, input_ids):
            return self.score(self.gpt(input_ids).last_hidden_state[:, -1])
''')


@pytest.fixture
def models(tmp_path):
    path = tmp_path / "text_models.py"
    path.write_text(MODELS)
    return path


@pytest.fixture(params=["hf_tracer", "transformers5"])
def tracer(request, monkeypatch):
    """transformers' tracer as installed, or none, as in transformers 5 (which removed utils.fx)."""
    if request.param == "transformers5":
        monkeypatch.setitem(sys.modules, "transformers.utils.fx", None)
    elif not hasattr(transformers, "utils") or not _has_hf_tracer():
        pytest.skip("this transformers has no utils.fx")
    return request.param


def _has_hf_tracer() -> bool:
    try:
        from transformers.utils import fx  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("name,model_class", [("TextClassifier", "modeling_bert:BertModel"),
                                              ("FineTuned", "modeling_bert:BertForSequenceClassification"),
                                              ("NextTokenScore", "modeling_gpt2:GPT2Model")])
def test_the_transformers_model_is_kept_whole_with_equal_outputs_and_keys(models, tracer, name, model_class):
    result = import_from_path(f"{models}:{name}", input_shape=(10,), dtype="long")
    (kept,) = [n for n in result.project.network().nodes.values() if n.type == "Module"]
    assert kept.params["target"].endswith(model_class) and kept.params["target"].startswith("transformers.models.")
    config = json.loads(kept.params["args"])["config"]
    assert config["n_embd" if name == "NextTokenScore" else "hidden_size"] == 32 and "model_type" in config
    torch.manual_seed(2)
    module = load_class(f"{models}:{name}")().eval()
    assert_checkpoint_loads(result, module, torch.randint(0, 100, (3, 12)), atol=1e-5)  # another length


def test_transformers_tracer_traces_what_plain_fx_cannot(models, monkeypatch):
    if not _has_hf_tracer():
        pytest.skip("this transformers has no utils.fx")
    module = load_class(f"{models}:TextClassifier")().eval()
    ids = torch.randint(0, 100, (2, 10))
    ones = torch.ones
    gm = trace(module, (ids,))
    assert "bert.encoder.layer.1.attention.self.query" in {n.target for n in gm.graph.nodes}
    torch.testing.assert_close(gm(ids), module(ids), rtol=0, atol=0)
    with pytest.raises(Exception, match="cannot trace"):
        trace(load_class(f"{models}:NextTokenScore")(), (ids,))  # GPT-2's cache stops even transformers' tracer
    assert torch.ones is ones  # which patched torch and left it so when it failed
    monkeypatch.setitem(sys.modules, "transformers.utils.fx", None)
    with pytest.raises(Exception, match="cannot trace"):
        trace(module, (ids,))


def test_a_transformers_model_is_package_code_trusted_once_imported(models, tmp_path, capsys, monkeypatch):
    project = tmp_path / "text.json"
    assert main(["import", f"{models}:TextClassifier", "-o", str(project), "--input-shape", "10",
                 "--dtype", "long"]) == 0
    assert main(["check", str(project)]) == 0  # studio import trusted what it ran
    (tmp_path / "trusted.json").unlink()  # another machine: transformers' code is trusted as any package's
    monkeypatch.delenv("STUDIO_TRUSTED_CODE")  # (the import allowed it for this process)
    capsys.readouterr()
    assert main(["check", str(project)]) == 2
    assert "transformers.models.bert.modeling_bert:BertModel" in capsys.readouterr().err


def test_python_export_builds_the_transformers_model_from_its_config(models, tmp_path, capsys):
    project = tmp_path / "text.json"
    assert main(["import", f"{models}:TextClassifier", "-o", str(project), "--input-shape", "10",
                 "--dtype", "long"]) == 0
    out = tmp_path / "text_model.py"
    assert main(["export", str(project), "--format", "python", "-o", str(out)]) == 0  # it runs the file to check it
    source = out.read_text()
    assert "BertModel(config=AutoConfig.for_model('bert', **{" in source
    assert "self.bert.register_forward_hook(model_output_items)" in source


ROOTS = textwrap.dedent('''
    from transformers import BertConfig, BertForSequenceClassification


    def tiny_classifier():
        return BertForSequenceClassification(BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                                        intermediate_size=64, vocab_size=100, num_labels=3))


    class TinyBert(BertForSequenceClassification):
        def __init__(self):
            super().__init__(BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                        intermediate_size=64, vocab_size=100, num_labels=3))
''')


@pytest.mark.parametrize("name,shapes", [("tiny_classifier", [(10,)]), ("TinyBert", [(10,)]),
                                         ("tiny_classifier", [(10,), (10,)])])  # token ids and attention mask
def test_a_transformers_model_imported_itself_is_kept_whole(tmp_path, tracer, name, shapes):
    path = tmp_path / "roots.py"
    path.write_text(ROOTS)
    result = import_from_path(f"{path}:{name}", input_shape=shapes, dtype="long")
    net = result.project.network()
    assert sorted(n.type for n in net.nodes.values()) == ["Input"] * len(shapes) + ["Module", "Output"]
    torch.manual_seed(3)
    module = load_class(f"{path}:{name}")().eval()
    x = torch.randint(0, 100, (2, 7))  # another length
    assert_checkpoint_loads(result, _Logits(module), x if len(shapes) == 1 else (x, torch.ones_like(x)))


class _Logits(torch.nn.Module):
    """The model's logits under its own state_dict keys (what a user's checkpoint holds)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def state_dict(self, *args, **kwargs):
        return self.model.state_dict(*args, **kwargs)

    def forward(self, *x):
        return self.model(*x).logits
