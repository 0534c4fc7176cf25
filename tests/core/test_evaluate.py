"""`studio evaluate` and ensembles: figures that agree with scikit-learn, trained beats untrained,
an ensemble that evaluates beside its members and exports as one module."""

import json
import math

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from studio.compile import compile_network
from studio.errors import StudioError
from studio.export.formats import export
from studio.graph import Project, io
from studio.train.ensemble import build_ensemble, save_ensemble
from studio.train.eval_metrics import classifier_figures, combine, regression_figures
from studio.train.evaluate import Member, evaluate
from studio.train.project_run import data_for, models_for
from studio.train.run import run_training

from tests.core.helpers import residual_block_project
from tests.core.test_cli import studio


def mlp(width: int = 16, source: str = "digits", classes: int | None = 10) -> Project:
    """Input 64 → Linear → ReLU → Linear → Output, on a digits-sized table with a test split."""
    project = Project("mlp")
    net = project.add_network("main")
    ids = [net.add_node("Input", "x", {"shape": [64 if source == "digits" else 10]}),
           net.add_node("Linear", "fc1", {"out_features": width}), net.add_node("ReLU", "relu"),
           net.add_node("Linear", "fc2", {"out_features": "$classes" if classes else 1}),
           net.add_node("Output", "y", {"classes": classes} if classes else {})]
    for a, b in zip(ids, ids[1:]):
        net.connect(a, "out", b, "in")
    project.data = {"source": source, "val_split": 0.2, "test_split": 0.2, "seed": 0}
    project.training = {"epochs": 2, "batch_size": 64, "lr": 0.01}
    return project


def train(project: Project, out, seed: int = 0) -> str:
    training = {**project.training, "seed": seed}
    run_training(models_for(project, training), data_for(project, training, project.data), training, out,
                 progress=False)
    return str(out / "final.pt")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A project file and the weights of two trained runs (seeds 0, 1) and of an untrained network."""
    folder = tmp_path_factory.mktemp("runs")
    project = mlp()
    io.save(project, folder / "mlp.json")
    untrained = folder / "untrained.pt"
    torch.manual_seed(0)
    torch.save(compile_network(project).state_dict(), untrained)
    return project, folder, [train(project, folder / f"run{s}", seed=s) for s in (0, 1)], str(untrained)


def test_classifier_figures_agree_with_sklearn():
    rng = np.random.default_rng(0)
    targets = rng.integers(0, 4, 200)
    probs = rng.dirichlet(np.ones(4), 200)
    probs[np.arange(200), targets] += 0.3  # better than chance, not perfect
    probs /= probs.sum(1, keepdims=True)
    fig = classifier_figures(targets, probs, ["a", "b", "c", "d"])
    preds = probs.argmax(1)
    assert fig["accuracy"] == pytest.approx(skm.accuracy_score(targets, preds))
    assert fig["macro_f1"] == pytest.approx(skm.f1_score(targets, preds, average="macro"))
    assert fig["roc_auc"] == pytest.approx(skm.roc_auc_score(targets, probs, multi_class="ovr"))
    assert fig["confusion_matrix"] == skm.confusion_matrix(targets, preds).tolist()
    p, r, f, s = skm.precision_recall_fscore_support(targets, preds)
    assert [c["recall"] for c in fig["per_class"]] == pytest.approx(r.tolist())
    assert [c["support"] for c in fig["per_class"]] == s.tolist() and fig["per_class"][2]["name"] == "c"
    roc = fig["curves"][1]["roc"]
    assert roc["fpr"][0] == 0 and roc["tpr"][-1] == 1 and len(roc["fpr"]) == len(roc["tpr"])


def test_a_class_missing_from_the_split_has_no_auc_and_the_rest_still_count():
    probs = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.8, 0.1]])
    fig = classifier_figures(np.array([0, 1, 0, 1]), probs)
    assert fig["per_class"][2]["roc_auc"] is None and fig["curves"][2]["roc"] is None
    assert fig["roc_auc"] == pytest.approx(1.0) and fig["accuracy"] == 1.0


def test_regression_figures_agree_with_sklearn():
    y, v = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.5, 2.0, 2.5, 5.0])
    fig = regression_figures(y, v)
    assert fig["mse"] == pytest.approx(skm.mean_squared_error(y, v))
    assert fig["mae"] == pytest.approx(skm.mean_absolute_error(y, v))
    assert fig["r2"] == pytest.approx(skm.r2_score(y, v))


def test_vote_counts_members_and_breaks_ties_by_mean_probability():
    a = np.array([[0.9, 0.1], [0.6, 0.4]])
    b = np.array([[0.4, 0.6], [0.1, 0.9]])
    c = np.array([[0.8, 0.2], [0.2, 0.8]])
    assert combine([a, b, c], "classification", "vote").argmax(1).tolist() == [0, 1]
    assert combine([a, b], "classification", "vote").argmax(1).tolist() == [0, 1]  # 1-1 ties
    assert combine([a, b], "classification", "vote").sum(1) == pytest.approx([1, 1])
    assert combine([a, b], "classification", "mean") == pytest.approx((a + b) / 2)
    with pytest.raises(StudioError, match="vote needs classifiers"):
        combine([a, b], "regression", "vote")


def test_trained_weights_beat_untrained_ones_and_match_the_runs_test_figures(runs):
    project, folder, (w0, _), untrained = runs
    trained = evaluate([Member(project, w0)])
    assert trained["split"] == "test" and trained["samples"] == 359
    run_test = json.loads((folder / "run0" / "test.json").read_text())
    assert trained["accuracy"] == pytest.approx(run_test["test_accuracy"])
    assert trained["macro_f1"] == pytest.approx(run_test["test_macro_f1"])
    before = evaluate([Member(project, untrained)])
    assert trained["accuracy"] > before["accuracy"] + 0.3
    assert trained["roc_auc"] > before["roc_auc"] + 0.1


def test_an_ensemble_is_evaluated_beside_its_members(runs):
    project, _, weights, _ = runs
    result = evaluate([Member(project, w) for w in weights])
    assert [m["weights"] for m in result["members"]] == weights
    assert result["ensemble"]["accuracy"] == result["accuracy"]
    member_accuracies = [m["accuracy"] for m in result["members"]]
    assert result["accuracy"] >= min(member_accuracies)
    voted = evaluate([Member(project, w) for w in weights], method="vote")
    assert voted["ensemble"]["method"] == "vote" and voted["members"] == result["members"]


def test_the_ensemble_project_evaluates_as_the_ensemble_and_exports(runs, tmp_path):
    project, _, weights, _ = runs
    ensemble, state = build_ensemble([Member(project, w) for w in weights])
    assert [n.type for n in ensemble.network().iter_nodes()].count("Block") == 2
    path = tmp_path / "ensemble.json"
    weights_path = save_ensemble(ensemble, state, path)
    reloaded = io.load(path)
    alone = evaluate([Member(reloaded, weights_path)])
    together = evaluate([Member(project, w) for w in weights])
    assert alone["accuracy"] == pytest.approx(together["accuracy"])
    assert alone["roc_auc"] == pytest.approx(together["roc_auc"])
    result = export(reloaded, "torchscript", tmp_path / "ensemble.ts", weights=weights_path)
    assert result.max_abs_diff < 1e-4
    scripted = torch.jit.load(str(tmp_path / "ensemble.ts"))
    x = torch.randn(3, 64)
    probs = scripted(x).exp().detach()
    assert probs.sum(1).tolist() == pytest.approx([1, 1, 1], abs=1e-5)


def test_the_ensemble_is_laid_out_flowing_down_with_its_members_side_by_side(runs):
    project, _, weights, _ = runs
    net = build_ensemble([Member(project, w) for w in weights])[0].network()
    pos = {n.name: n.pos for n in net.iter_nodes()}
    for edge in net.edges:
        assert net.node(edge.dst).pos[1] > net.node(edge.src).pos[1], edge  # drawn top to bottom, as its ports
    assert pos["member0"][1] == pos["member1"][1] and pos["member0"][0] != pos["member1"][0]


def test_members_with_blocks_share_their_definitions_and_a_changed_one_is_refused(tmp_path):
    project = residual_block_project()
    nets = []
    for name in ("a.pt", "b.pt"):
        nets.append(compile_network(project).eval())  # each draws its own initial weights
        torch.save(nets[-1].state_dict(), tmp_path / name)
    ensemble, state = build_ensemble([Member(project, tmp_path / "a.pt"), Member(project, tmp_path / "b.pt")])
    assert sorted(ensemble.blocks) == ["basic", "member0", "member1"]
    x = torch.randn(2, 3, 8, 8)
    model = compile_network(ensemble)
    model.load_state_dict(state)
    mean = (nets[0](x) + nets[1](x)) / 2  # no classes: the mean of the values
    assert torch.allclose(model.eval()(x), mean, atol=1e-5)
    other = residual_block_project()
    block = other.blocks["basic"].network
    block.set_params(block.by_name("conv2").id, {"kernel_size": 1, "padding": 0})
    torch.save(compile_network(other).state_dict(), tmp_path / "b.pt")
    with pytest.raises(StudioError, match="different blocks called 'basic'"):
        build_ensemble([Member(project, tmp_path / "a.pt"), Member(other, tmp_path / "b.pt")])


def test_members_with_the_same_weights_are_refused_naming_the_seed(runs):
    project, _, weights, _ = runs
    with pytest.raises(StudioError, match=r"members 1 and 2 .* have the same weights.*training\.seed"):
        build_ensemble([Member(project, weights[0]), Member(project, weights[0])])


def test_the_vote_node_votes_as_evaluate_does_ties_included():
    from studio.catalog.modules import Vote

    a = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
    b = np.array([[0.4, 0.6], [0.1, 0.9], [0.3, 0.7]])
    stacked = torch.log(torch.tensor(np.stack([a, b], axis=1)))  # (batch, members, classes)
    shares = Vote()(stacked).exp()
    assert shares.numpy() == pytest.approx(combine([a, b], "classification", "vote"))


def test_a_voting_ensemble_project_evaluates_as_the_vote_and_exports(runs, tmp_path):
    project, _, weights, _ = runs
    members = [Member(project, w) for w in weights]
    ensemble, state = build_ensemble(members, "voters", method="vote")
    assert "Vote" in [n.type for n in ensemble.network().iter_nodes()]
    weights_path = save_ensemble(ensemble, state, tmp_path / "voters.json")
    alone = evaluate([Member(io.load(tmp_path / "voters.json"), weights_path)])
    voted = evaluate(members, method="vote")
    assert alone["accuracy"] == pytest.approx(voted["accuracy"])
    assert alone["roc_auc"] == pytest.approx(voted["roc_auc"])
    for fmt, suffix in (("torchscript", ".ts"), ("onnx", ".onnx")):
        assert export(io.load(tmp_path / "voters.json"), fmt, tmp_path / f"voters{suffix}",
                      weights=weights_path).max_abs_diff < 1e-4
    regression = mlp(source="diabetes", classes=None)
    with pytest.raises(StudioError, match="a vote needs classifiers"):
        build_ensemble([Member(regression, "a.pt"), Member(regression, "b.pt")], method="vote")


def test_members_that_do_not_fit_together_are_refused(runs, tmp_path):
    project, _, weights, _ = runs
    with pytest.raises(StudioError, match="at least two members"):
        build_ensemble([Member(project, weights[0])])
    other = mlp(width=16)
    other.network().set_params(other.network().by_name("x").id, {"shape": [32]})
    with pytest.raises(StudioError, match="shape"):
        build_ensemble([Member(project, weights[0]), Member(other, weights[1])])


def test_bad_split_and_weights_are_plain_errors(runs, tmp_path):
    project, _, weights, _ = runs
    with pytest.raises(StudioError, match="unknown split 'train'"):
        evaluate([Member(project, weights[0])], split="train")
    no_test = mlp()
    no_test.data = {**no_test.data, "test_split": 0.0}
    with pytest.raises(StudioError, match="no test split"):
        evaluate([Member(no_test, weights[0])], split="test")
    assert evaluate([Member(no_test, weights[0])])["split"] == "val"
    with pytest.raises(StudioError, match="no such weights file"):
        evaluate([Member(project, tmp_path / "missing.pt")])


def test_regression_reports_mse_mae_r2(tmp_path):
    project = mlp(source="diabetes", classes=None)
    weights = train(project, tmp_path / "run")
    result = evaluate([Member(project, weights)])
    assert result["task"] == "regression" and {"mse", "mae", "r2"} <= set(result)
    run_test = json.loads((tmp_path / "run" / "test.json").read_text())
    assert result["mae"] == pytest.approx(run_test["test_mae"], rel=1e-4)
    assert result["r2"] == pytest.approx(run_test["test_r2"], rel=1e-4, abs=1e-4)


def test_cli_evaluate_json_with_an_ensemble_and_the_saved_ensemble_exports(runs, tmp_path):
    _, folder, weights, _ = runs
    out = studio("evaluate", str(folder / "mlp.json"), "--weights", weights[0], "--weights", weights[1],
                 "--json", "--save-ensemble", str(tmp_path / "ens.json"))
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"accuracy", "macro_f1", "roc_auc", "per_class", "members", "ensemble"} <= set(data)
    assert len(data["per_class"]) == 10 and len(data["members"]) == 2
    out = studio("export", str(tmp_path / "ens.json"), "--weights", str(tmp_path / "ens.pt"),
                 "--format", "pt2", "-o", str(tmp_path / "ens.pt2"))
    assert out.returncode == 0, out.stderr
    out = studio("evaluate", str(tmp_path / "ens.json"), "--weights", str(tmp_path / "ens.pt"), "--json")
    assert json.loads(out.stdout)["accuracy"] == pytest.approx(data["accuracy"])
    out = studio("evaluate", str(folder / "mlp.json"), "--weights", weights[0], "--weights", weights[1],
                 "--vote", "--json", "--save-ensemble", str(tmp_path / "vote.json"))
    voted = json.loads(out.stdout)
    out = studio("evaluate", str(tmp_path / "vote.json"), "--weights", str(tmp_path / "vote.pt"), "--json")
    assert json.loads(out.stdout)["roc_auc"] == pytest.approx(voted["roc_auc"])  # the saved graph votes


@pytest.mark.parametrize("extra, message", [
    (["--weights", "missing.pt"], "no such weights file"),
    (["--weights", "run0/final.pt", "--data", "nosuch"], "unknown data source 'nosuch'"),
    ([], "nothing to evaluate"),
])
def test_cli_evaluate_errors_are_short_and_plain(runs, extra, message):
    _, folder, _, _ = runs
    out = studio("evaluate", str(folder / "mlp.json"), *extra, cwd=folder)
    assert out.returncode != 0 and message in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) <= 3


def test_another_task_reports_its_recipes_own_figures(tmp_path):
    from studio.presets import resolve

    project = io.load(resolve("lstm_lm"))
    project.data = {**project.data, "n": 200, "test_split": 0.2}
    weights = tmp_path / "final.pt"
    torch.save(models_for(project, project.training)["model"].state_dict(), weights)
    result = evaluate([Member(project, weights)])
    assert result["split"] == "test" and result["task"] == "language_model"
    assert {"loss", "perplexity", "accuracy"} <= set(result)
    assert result["perplexity"] == pytest.approx(math.exp(result["loss"]), rel=1e-4)
    with pytest.raises(StudioError, match="one at a time"):
        evaluate([Member(project, weights), Member(project, weights)])


def test_probabilities_from_one_sigmoid_unit_and_outputs_that_are_not_scores():
    from studio.train.evaluate import probabilities

    p = probabilities(torch.tensor([[0.0], [2.0]]), "bce_logits")
    assert p[:, 1].tolist() == pytest.approx([0.5, 1 / (1 + math.exp(-2))]) and p.sum(1).tolist() == [1, 1]
    assert probabilities(torch.tensor([0.25, 0.75]), "bce")[:, 1].tolist() == [0.25, 0.75]
    with pytest.raises(StudioError, match="one score per class"):
        probabilities(torch.zeros(2, 3, 4), "cross_entropy")
