"""Distillation: the loss as Hinton et al. define it, a frozen teacher, settings checked by name, the CLI."""

import json
import math

import pytest
import torch
import torch.nn.functional as F

from studio.compile.weights import read_state_dict
from studio.errors import TrainingError
from studio.graph import io
from studio.train.config import TrainConfig
from studio.train.distil import distillation_loss, load_teacher
from studio.train.ensemble import build_ensemble, save_ensemble
from studio.train.evaluate import Member
from studio.train.project_run import data_for, models_for
from studio.train.recipes import RecipeContext, make_recipe

from tests.core.test_cli import studio
from tests.core.test_evaluate import mlp, train


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    """A trained teacher: its project file and final.pt."""
    folder = tmp_path_factory.mktemp("teacher")
    project = mlp(width=32)
    io.save(project, folder / "teacher.json")
    return folder / "teacher.json", train(project, folder / "run")


def test_distillation_loss_is_alpha_t2_kl_plus_the_rest_hard_loss():
    torch.manual_seed(0)
    s, t = torch.randn(5, 4), torch.randn(5, 4)
    y = torch.tensor([0, 1, 2, 3, 0])
    ce = F.cross_entropy(s, y)
    T, alpha = 3.0, 0.7
    p_t, p_s = torch.softmax(t / T, 1), torch.softmax(s / T, 1)
    kl = (p_t * (p_t.log() - p_s.log())).sum(1).mean()
    expected = alpha * T * T * kl + (1 - alpha) * ce
    assert distillation_loss(s, t, ce, T, alpha).item() == pytest.approx(expected.item(), rel=1e-5)
    assert distillation_loss(s, t, ce, T, 0.0).item() == pytest.approx(ce.item())
    assert distillation_loss(s, s.clone(), ce, T, 1.0).item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("settings, setting", [
    ({"recipe": "distillation", "teacher": "t.json", "distill_alpha": 1.5}, "training.distill_alpha"),
    ({"recipe": "distillation", "teacher": "t.json", "distill_temperature": 0}, "training.distill_temperature"),
    ({"recipe": "distillation", "teacher": "t.json", "distill_temperature": math.inf}, "training.distill_temperature"),
    ({"recipe": "distillation"}, "training.teacher"),
    ({"recipe": "distillation", "teacher": 3}, "training.teacher"),
])
def test_bad_settings_are_refused_naming_the_setting(settings, setting):
    with pytest.raises(TrainingError, match=setting.replace(".", r"\.")):
        TrainConfig.from_dict(settings)


def test_the_teacher_runs_frozen_in_eval_mode_and_only_the_student_learns(teacher):
    path, weights = teacher
    student = mlp(width=8)
    training = {**student.training, "recipe": "distillation", "teacher": str(path), "teacher_weights": weights}
    data = data_for(student, training, student.data)
    models = models_for(student, training)
    config = TrainConfig.from_dict(training)
    recipe = make_recipe("distillation")
    recipe.setup(RecipeContext(models, models, data, config, torch.device("cpu"), False, False, 1))
    before = {k: v.clone() for k, v in recipe.teacher.state_dict().items()}
    student_before = models["model"].state_dict()["fc1.weight"].clone()
    recipe.begin_epoch(1)
    x, y = next(iter(torch.utils.data.DataLoader(data.train, batch_size=32)))
    loss = recipe.train_step((x, y))
    assert torch.isfinite(loss) and not recipe.teacher.training
    assert all(p.grad is None and not p.requires_grad for p in recipe.teacher.parameters())
    assert all(torch.equal(v, before[k]) for k, v in recipe.teacher.state_dict().items())
    assert not torch.equal(models["model"].state_dict()["fc1.weight"], student_before)


def test_a_teacher_without_weights_or_of_the_wrong_shape_is_refused(teacher, tmp_path):
    path, weights = teacher
    with pytest.raises(TrainingError, match="training.teacher_weights"):
        load_teacher(str(path))
    with pytest.raises(TrainingError, match="training.teacher: .*no such"):
        load_teacher(str(tmp_path / "nothing.json"), weights=weights)
    assert not load_teacher(str(path), weights=weights).training


def test_an_ensemble_teacher_needs_no_weights_it_remembers_its_own(teacher, tmp_path):
    path, weights = teacher
    other = {k: v + 0.01 * torch.randn_like(v) for k, v in read_state_dict(weights).items()}
    torch.save(other, tmp_path / "other.pt")
    members = [Member(io.load(path), weights), Member(io.load(path), tmp_path / "other.pt")]
    ensemble, state = build_ensemble(members)
    save_ensemble(ensemble, state, tmp_path / "pair.json")
    model = load_teacher(str(tmp_path / "pair.json"))  # its weights are pair.pt, as the file says
    x = torch.randn(3, 64)
    alone = [load_teacher(str(path), weights=w) for w in (weights, str(tmp_path / "other.pt"))]
    mean = (torch.softmax(alone[0](x), 1) + torch.softmax(alone[1](x), 1)) / 2
    assert torch.allclose(model(x).exp(), mean, atol=1e-5)


def test_loading_the_teacher_leaves_the_random_stream_as_a_run_on_labels_alone_has_it(teacher):
    path, weights = teacher  # so dropout and augmentation draw alike in the paired runs of bench/combine.py
    torch.manual_seed(3)
    expected = torch.rand(4)
    torch.manual_seed(3)
    load_teacher(str(path), weights=weights)
    assert torch.equal(torch.rand(4), expected)


def test_cli_train_with_a_teacher_writes_the_students_run(teacher, tmp_path):
    path, weights = teacher
    student = tmp_path / "student.json"
    io.save(mlp(width=8), student)
    out = studio("train", str(student), "--teacher", str(path), "--teacher-weights", weights,
                 "--epochs", "3", "--out", str(tmp_path / "run"))
    assert out.returncode == 0, out.stderr
    test = json.loads((tmp_path / "run" / "test.json").read_text())
    assert test["test_accuracy"] > 0.5
    final = torch.load(tmp_path / "run" / "final.pt", weights_only=True)
    assert final["fc1.weight"].shape == (8, 64)  # the student's weights, not the teacher's
    out = studio("train", str(student), "--teacher-weights", weights, "--out", str(tmp_path / "x"))
    assert out.returncode != 0 and "--teacher-weights needs --teacher" in out.stderr
    out = studio("train", str(student), "--teacher", str(path), "--set", "distill_alpha=2",
                 "--out", str(tmp_path / "x"))
    assert out.returncode != 0 and "training.distill_alpha" in out.stderr and "Traceback" not in out.stderr
