"""Explanations with Captum (`studio.train.explain`) and `studio explain`, on networks built by hand."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from studio.compile import compile_network
from studio.errors import StudioError
from studio.graph import Project, io
from studio.train.explain import METHODS, Explainer, attribution, heat_map, overlay
from tests.core.helpers import chain

pytest.importorskip("captum")


class TopLeft(nn.Module):
    """Zeroes all but the top-left quadrant: whatever comes after can only see that region."""

    def forward(self, x):
        mask = torch.zeros_like(x)
        mask[..., : x.shape[-2] // 2, : x.shape[-1] // 2] = 1
        return x * mask


def quadrant_net() -> nn.Sequential:
    """Masks to the top-left quadrant, a fixed averaging conv, then two classes from the sum of what it saw."""
    torch.manual_seed(0)
    conv = nn.Conv2d(1, 2, 3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.fill_(1 / 9)
        conv.weight[1].mul_(-1)
    fc = nn.Linear(2 * 16 * 16, 2)
    with torch.no_grad():
        fc.weight.copy_(torch.randn_like(fc.weight).abs())
    return nn.Sequential(TopLeft(), conv, nn.ReLU(), nn.Flatten(), fc).eval()


def top_left_share(heat: np.ndarray) -> float:
    h, w = heat.shape
    return float(heat[: h // 2 + 1, : w // 2 + 1].sum() / heat.sum())  # one pixel of the conv's reach beyond


@pytest.mark.parametrize("method", METHODS)
def test_every_method_points_at_the_region_the_answer_depends_on(method):
    model = quadrant_net()
    x = torch.rand(1, 16, 16) + 0.1
    attr = attribution(model, x, target=0, method=method, layer=model[1])
    heat = heat_map(attr, (16, 16))
    assert heat.shape == (16, 16) and heat.max() == pytest.approx(1.0) and heat.min() >= 0
    assert top_left_share(heat) > 0.99
    assert heat[:8, :8].mean() > 0.1  # the region itself is lit, not only its edge


def test_the_overlay_is_an_rgb_picture_scaled_up():
    heat = np.zeros((8, 8))
    heat[:4, :4] = 1.0
    picture = overlay(np.full((1, 8, 8), 0.5), heat)
    assert picture.mode == "RGB" and picture.size == (256, 256)
    hot, cold = picture.getpixel((10, 10)), picture.getpixel((250, 250))
    assert hot[0] > 150 and hot[2] < 100  # red to yellow where it looked
    assert cold == (128, 128, 128)  # the image itself, untinted, where it did not


def test_a_blue_image_stays_blue_and_the_heat_shows_over_it():
    blue = np.zeros((3, 8, 8))
    blue[2] = 0.8
    heat = np.zeros((8, 8))
    heat[:4, :4] = 1.0
    picture = overlay(blue, heat)
    assert picture.getpixel((250, 250)) == (0, 0, 204)
    r, g, b = picture.getpixel((10, 10))
    assert r > 200 and r > 2 * b  # no blue in the colour map: the heat contrasts with a blue image


def test_an_rgb_image_keeps_its_colours_under_the_heat():
    red = np.zeros((3, 8, 8))
    red[0] = 1.0
    r, g, b = overlay(red, np.zeros((8, 8))).getpixel((100, 100))
    assert r > 150 and r > 2 * g and r > 2 * b  # red shows through where the network did not look
    grey = overlay(np.full((1, 8, 8), 0.8), np.zeros((8, 8))).getpixel((100, 100))
    assert grey[0] == grey[1] == grey[2]  # one channel: grey


def test_the_explainer_follows_the_training_device(trained):
    project = io.load(trained / "q.json")
    assert Explainer(project, trained / "w.pt", trained, device="cpu").device == torch.device("cpu")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the refusal below is for one without")
    project.training = {"device": "cuda"}
    with pytest.raises(StudioError, match="CUDA is not available here"):
        Explainer(project, trained / "w.pt", trained)


# --- a project: the same idea with catalog layers, trained weights written by hand ---------------

def quadrant_project() -> Project:
    project = Project("quadrant")
    chain(project.add_network("main"), [
        ("Input", "image", {"shape": [1, 8, 8]}),
        ("Conv2d", "conv", {"out_channels": 2, "kernel_size": 3, "padding": 1}), ("ReLU", "relu", {}),
        ("Flatten", "flatten", {}), ("Linear", "fc", {"out_features": 10}), ("Output", "logits", {})])
    project.data = {"source": "digits", "val_split": 0.1}
    return project


def quadrant_weights(project: Project, path):
    """Weights whose Linear reads only the conv's top-left 4×4 positions."""
    torch.manual_seed(0)
    state = compile_network(project).state_dict()
    mask = torch.zeros(2, 8, 8)
    mask[:, :4, :4] = 1
    state["fc.weight"] = state["fc.weight"] * mask.reshape(1, -1)
    torch.save(state, path)


@pytest.fixture
def trained(tmp_path):
    project = quadrant_project()
    io.save(project, tmp_path / "q.json")
    quadrant_weights(project, tmp_path / "w.pt")
    return tmp_path


def test_the_explainer_explains_a_validation_sample_of_a_project(trained):
    ex = Explainer(io.load(trained / "q.json"), trained / "w.pt", trained)
    assert list(ex.convolutions) == ["conv"] and len(ex) == 180
    for method in ("saliency", "integrated_gradients"):
        result = ex.explain(3, method)
        assert result.heat.shape == (8, 8) and result.image.shape == (1, 8, 8)
        assert top_left_share(result.heat) > 0.99
    cam = ex.explain(3, "gradcam")
    assert cam.node == "conv" and cam.pred == ex.predictions()[3]
    cells = ex.cell_samples(ex.label(3), cam.pred)
    assert 3 in cells and all(ex.label(i) == ex.label(3) for i in cells)


def test_a_distilled_student_is_explained_as_the_classifier_it_is(trained):
    project = io.load(trained / "q.json")
    project.training = {**project.training, "recipe": "distillation", "teacher": str(trained / "q.json")}
    ex = Explainer(project, trained / "w.pt", trained)
    assert top_left_share(ex.explain(3, "saliency").heat) > 0.99


def test_plain_errors_name_the_node_the_sample_and_the_task(trained):
    ex = Explainer(io.load(trained / "q.json"), trained / "w.pt", trained)
    with pytest.raises(StudioError, match="node 'relu' is not a convolution.*one of: conv"):
        ex.explain(0, "gradcam", "relu")
    with pytest.raises(StudioError, match=r"sample 180 is out of range.*180 samples \(0 to 179\)"):
        ex.explain(180, "saliency")
    project = io.load(trained / "q.json")
    project.training = {"recipe": "language_model"}
    with pytest.raises(StudioError, match="explanations need a classifier; project 'quadrant' trains with the language_model"):
        Explainer(project, trained / "w.pt", trained)


def studio(*args, cwd):
    return subprocess.run([sys.executable, "-m", "studio.cli", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd)


def test_studio_explain_writes_the_overlay_and_refuses_in_plain_words(trained):
    run = studio("explain", "q.json", "--weights", "w.pt", "--method", "gradcam", "--node", "conv",
                 "--sample", "2", "-o", "heat.png", cwd=trained)
    assert run.returncode == 0, run.stderr
    assert "wrote heat.png: gradcam at conv, sample 2" in run.stdout
    with Image.open(trained / "heat.png") as picture:
        assert picture.mode == "RGB" and picture.size == (256, 256)
    bad = studio("explain", "q.json", "--weights", "w.pt", "--method", "gradcam", "--node", "fc",
                 "--sample", "2", "-o", "x.png", cwd=trained)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.strip() == ("studio: node 'fc' is not a convolution of network 'main'; "
                                  "Grad-CAM works at one of: conv")
    assert not (trained / "x.png").exists()
