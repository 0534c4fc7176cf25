"""`studio compress`: int8 quantization, unstructured and structured pruning on tiny networks and data.

Each method moves its figures the right way, a bad setting is refused naming
it, a structured-pruned project opens, checks clean and trains, and the int8
ONNX file reloads and agrees with the float network.
"""

import json
import os
import re
import subprocess
import sys

import pytest
import torch

from studio.compile import compile_network
from studio.compile.weights import load_weights
from studio.compress import compress
from studio.compress.channels import apply, plan
from studio.compress.inline import inline_blocks, rename_state
from studio.compress.quantize import session
from studio.errors import StudioError
from studio.graph import Project, io
from studio.graph.analysis import Analyzer
from studio.train.preflight import project_problems
from studio.train.project_run import data_for, models_for, optimiser_settings
from studio.train.run import run_training

from tests.core.helpers import chain, residual_block_project

DATA = {"source": "digits", "max_samples": 300, "val_split": 0.2, "test_split": 0.2}
TRAINING = {"epochs": 1, "batch_size": 32, "lr": 0.01, "optimizer": "adam", "device": "cpu"}
FIGURES = ("size_bytes", "params", "flops", "accuracy", "latency_ms")


def conv_project(bn: bool = True) -> Project:
    """Two small convolutions (with batch norm), a Flatten and two Linear layers on 1×8×8 digits."""
    project = Project("tiny conv")
    project.data, project.training = dict(DATA), dict(TRAINING)
    net = project.add_network("main")
    norm = [("BatchNorm2d", "bn1", {})] if bn else []
    chain(net, [("Input", "image", {"shape": [1, 8, 8]}),
                ("Conv2d", "conv1", {"out_channels": 8, "kernel_size": 3, "padding": 1}), *norm,
                ("ReLU", "relu1", {}), ("MaxPool2d", "pool1", {"kernel_size": 2}),
                ("Conv2d", "conv2", {"out_channels": 16, "kernel_size": 3, "padding": 1}), ("ReLU", "relu2", {}),
                ("Flatten", "flatten", {}), ("Linear", "fc1", {"out_features": 32}), ("ReLU", "relu3", {}),
                ("Linear", "fc2", {"out_features": 10}), ("Output", "logits", {})])
    return project


def mlp_project() -> Project:
    """Linear layers only, on the 64 digit pixels: quantized dynamically."""
    project = Project("tiny mlp")
    project.data, project.training = dict(DATA), dict(TRAINING)
    chain(project.add_network("main"), [("Input", "pixels", {"shape": [64]}),
                                        ("Linear", "fc1", {"out_features": 128}), ("ReLU", "relu", {}),
                                        ("Linear", "fc2", {"out_features": 10}), ("Output", "logits", {})])
    return project


def weights(project: Project, seed: int = 0) -> dict:
    torch.manual_seed(seed)
    return compile_network(project).state_dict()


def conv_weights(project: Project) -> dict:
    """Weights with a trained model's spread: batch-norm statistics away from their defaults."""
    state = weights(project)
    if "bn1.running_var" in state:
        state["bn1.running_var"].uniform_(0.5, 2.0)
        state["bn1.running_mean"].normal_()
    return state


def test_static_quantization_shrinks_the_file_and_agrees_with_the_float_network(tmp_path):
    project = conv_project()
    state = conv_weights(project)
    out = tmp_path / "tiny.onnx"
    result = compress(project, state, "quantize", out, mode="static", repeats=2)
    assert result.files == [out] and "static" in result.notes[0]
    assert result.after.size_bytes < 0.5 * result.before.size_bytes
    assert (result.after.params, result.after.flops) == (result.before.params, result.before.flops)
    import onnx

    model = onnx.load(str(out))
    assert any(i.data_type == onnx.TensorProto.INT8 for i in model.graph.initializer)
    s = session(out)  # the file a user deploys reloads...
    data = data_for(project, project.training, project.data)
    x = torch.stack([data.val[i][0] for i in range(len(data.val))])
    got = torch.from_numpy(s.run(None, {s.get_inputs()[0].name: x.numpy()})[0])
    model = compile_network(project)
    model.load_state_dict(state)
    with torch.no_grad():
        want = model.eval()(x)
    assert (got.argmax(1) == want.argmax(1)).float().mean() >= 0.9  # ...and agrees with the float network
    assert (got - want).abs().max() <= 0.1 * want.abs().max()
    assert result.after.accuracy == pytest.approx(result.before.accuracy, abs=0.05)


def test_auto_quantizes_a_convolutional_network_both_ways_and_keeps_the_faster(tmp_path):
    project = conv_project()
    result = compress(project, conv_weights(project), "quantize", tmp_path / "auto.onnx", repeats=3)
    found = re.findall(r"(static|dynamic) ([\d.]+) ms \(([\d,]+) bytes\)", result.notes[1])
    ms, size = {m: float(t) for m, t, _ in found}, {m: int(b.replace(",", "")) for m, _, b in found}
    assert set(ms) == {"static", "dynamic"}
    small = size["dynamic"] <= 1.1 * size["static"]
    expected = "dynamic" if small and ms["dynamic"] < ms["static"] else "static"
    kept = result.notes[0].split()[0]
    assert kept == expected and f"kept {kept}" in result.notes[1]
    assert result.after.latency32_ms == pytest.approx(ms[kept], abs=1e-3)
    assert result.after.size_bytes == size[kept] == (tmp_path / "auto.onnx").stat().st_size
    import onnx

    ops = {n.op_type for n in onnx.load(str(tmp_path / "auto.onnx")).graph.node}
    assert ("ConvInteger" not in ops) and (("QuantizeLinear" in ops) == (kept == "static"))


def test_dynamic_quantization_keeps_convolutions_in_float_from_half_size_weights(tmp_path):
    import onnx

    project = conv_project()
    state = conv_weights(project)
    compress(project, state, "quantize", tmp_path / "dyn.onnx", mode="dynamic", repeats=2)
    model = onnx.load(str(tmp_path / "dyn.onnx"))
    ops = [n.op_type for n in model.graph.node]
    half = {i.name for i in model.graph.initializer if i.data_type == onnx.TensorProto.FLOAT16}
    casts = {n.output[0] for n in model.graph.node if n.op_type == "Cast" and n.input[0] in half}
    assert "ConvInteger" not in ops and {n.input[1] for n in model.graph.node if n.op_type == "Conv"} == casts
    assert len(casts) == 2 and any(i.data_type == onnx.TensorProto.INT8 for i in model.graph.initializer)
    s = session(tmp_path / "dyn.onnx")
    x = torch.randn(8, 1, 8, 8)
    net = compile_network(project)
    net.load_state_dict(state)
    with torch.no_grad():
        want = net.eval()(x)
    got = torch.from_numpy(s.run(None, {s.get_inputs()[0].name: x.numpy()})[0])
    assert (got - want).abs().max() <= 0.05 * want.abs().max()


def test_a_network_without_convolutions_is_quantized_dynamically(tmp_path):
    project = mlp_project()
    result = compress(project, weights(project), "quantize", tmp_path / "mlp.onnx", repeats=2)
    assert "dynamic" in result.notes[0]
    assert result.after.size_bytes < 0.5 * result.before.size_bytes
    import onnx

    ops = {n.op_type for n in onnx.load(str(tmp_path / "mlp.onnx")).graph.node}
    assert ops & {"MatMulInteger", "DynamicQuantizeLinear", "DynamicQuantizeMatMul"}


def test_a_distilled_student_is_compressed_and_fine_tuned_from_its_teacher(tmp_path):
    teacher = conv_project()
    io.save(teacher, tmp_path / "teacher.json")
    torch.save(conv_weights(teacher), tmp_path / "teacher.pt")
    student = conv_project()
    student.training = {**student.training, "recipe": "distillation", "teacher": str(tmp_path / "teacher.json"),
                        "teacher_weights": str(tmp_path / "teacher.pt")}
    result = compress(student, weights(student), "prune", tmp_path / "small.json", amount=0.5, structured=True,
                      finetune_epochs=1, repeats=2)
    assert result.after.flops < 0.6 * result.before.flops
    assert io.load(tmp_path / "small.json").training["recipe"] == "distillation"


def test_unstructured_pruning_zeros_the_smallest_weights_and_the_file_loads_into_the_same_project(tmp_path):
    project = conv_project()
    state = conv_weights(project)
    out = tmp_path / "pruned.pt"
    result = compress(project, state, "prune", out, amount=0.5, repeats=2)
    assert result.after.params < 0.6 * result.before.params
    report = load_weights(project, out)
    assert report.ok
    for name in ("conv1.weight", "conv2.weight", "fc1.weight"):
        pruned, old = report.state[name], state[name]
        assert (pruned == 0).float().mean() >= 0.5
        kept = pruned != 0  # the largest magnitudes are the ones kept
        assert old[kept].abs().min() >= old[~kept].abs().max()


def test_fine_tuning_after_unstructured_pruning_keeps_the_zeros(tmp_path):
    project = conv_project()
    state = conv_weights(project)
    out = tmp_path / "pruned.pt"
    compress(project, state, "prune", out, amount=0.7, finetune_epochs=1, repeats=2)
    pruned = load_weights(project, out).state
    assert (pruned["fc1.weight"] == 0).float().mean() >= 0.69
    assert not torch.equal(pruned["fc2.bias"], state["fc2.bias"])  # it trained


def test_structured_pruning_writes_a_smaller_project_that_checks_clean_and_trains(tmp_path):
    project = conv_project()
    out = tmp_path / "small.json"
    result = compress(project, conv_weights(project), "prune", out, amount=0.5, structured=True, repeats=2)
    assert result.files == [out, tmp_path / "small.pt"]
    assert result.after.params < 0.5 * result.before.params
    assert result.after.flops < 0.5 * result.before.flops
    assert result.after.size_bytes < result.before.size_bytes
    assert any("fc2" in n and "Output" in n for n in result.notes)  # the classifier is left alone, and said so
    pruned = io.load(out)
    assert project_problems(pruned) == []
    net = pruned.network()
    assert net.by_name("conv1").params["out_channels"] == 4 and net.by_name("fc1").params["out_features"] == 16
    assert load_weights(pruned, tmp_path / "small.pt").ok
    models = models_for(pruned, pruned.training, base=tmp_path)  # init_weights: retraining starts from them
    first = models["model"].conv1.weight.detach().clone()
    assert torch.equal(first, torch.load(tmp_path / "small.pt")["conv1.weight"])
    finished = run_training(models, data_for(pruned, pruned.training, pruned.data),
                            optimiser_settings(pruned.training), None, progress=False)
    assert finished.reason == "completed"
    assert not torch.equal(models["model"].conv1.weight, first)


def test_cutting_channels_that_carry_nothing_leaves_the_outputs_as_they_were():
    """conv1's zero channels are the ones cut; conv2 and fc1 (after the Flatten) keep the right inputs."""
    project = conv_project(bn=False)
    state = weights(project)
    for c in (1, 3, 4, 6):
        state["conv1.weight"][c] = 0
        state["conv1.bias"][c] = 0
    for c in range(0, 16, 2):  # conv2's channel c is fc1's features c*16 .. c*16+15 after the Flatten
        state["conv2.weight"][c] = 0
        state["conv2.bias"][c] = 0
    net = project.network()
    cuts, skipped = plan(net, Analyzer(project).analyse("main"), state, 0.5)
    cuts = [c for c in cuts if net.node(c.producer).name in ("conv1", "conv2")]
    assert [c.keep for c in cuts] == [[0, 2, 5, 7], list(range(1, 16, 2))]
    assert skipped == ["fc2 (its output is the network's Output 'logits')"]
    pruned = io.from_dict(io.to_dict(project))
    new_state = apply(pruned, "main", cuts, state)
    before, after = compile_network(project).eval(), compile_network(pruned).eval()
    before.load_state_dict(state)
    after.load_state_dict(new_state)
    x = torch.randn(5, 1, 8, 8)
    torch.testing.assert_close(after(x), before(x))


def test_blocks_are_expanded_and_layers_feeding_a_residual_add_are_left_alone():
    project = residual_block_project(repeat=2)
    state = weights(project)
    flat, paths = inline_blocks(project, "main")
    assert not any(n.type == "Block" for n in flat.network().nodes.values())
    flat_state = rename_state(state, flat.network(), paths)
    original, expanded = compile_network(project).eval(), compile_network(flat).eval()
    original.load_state_dict(state)
    expanded.load_state_dict(flat_state)
    x = torch.randn(3, 3, 8, 8)
    torch.testing.assert_close(expanded(x), original(x))
    cuts, skipped = plan(flat.network(), Analyzer(flat).analyse("main"), flat_state, 0.5)
    names = {flat.network().node(c.producer).name for c in cuts}
    assert names == {"stage_0_conv1", "stage_1_conv1"}
    assert any(s.startswith("stage_0_conv2") and "Add" in s for s in skipped)
    assert any(s.startswith("stem") and "Add" in s for s in skipped)


@pytest.mark.parametrize("kwargs, option", [
    ({"method": "prune", "amount": 0.0}, "--amount"), ({"method": "prune", "amount": 1.0}, "--amount"),
    ({"method": "prune", "amount": 1.5}, "--amount"), ({"method": "prune", "amount": -0.2}, "--amount"),
    ({"method": "shrink"}, "--method"), ({"method": "quantize", "structured": True}, "--structured"),
    ({"method": "quantize", "finetune_epochs": 2}, "--finetune-epochs"),
    ({"method": "prune", "finetune_epochs": -1}, "--finetune-epochs"),
    ({"method": "quantize", "mode": "float8"}, "--quantize-mode"),
])
def test_bad_settings_are_refused_naming_the_setting(tmp_path, kwargs, option):
    project = conv_project()
    suffix = ".onnx" if kwargs["method"] == "quantize" else ".pt"
    with pytest.raises(StudioError, match=f"^{option}"):
        compress(project, weights(project), out=tmp_path / f"out{suffix}", **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_weights_that_do_not_fit_and_a_wrong_output_name_are_refused(tmp_path):
    project = conv_project()
    with pytest.raises(StudioError, match="^--weights: .* do not fit network 'main'"):
        compress(project, weights(mlp_project()), "prune", tmp_path / "out.pt")
    with pytest.raises(StudioError, match=r"^-o: out.pt should end in \.json"):
        compress(project, weights(project), "prune", tmp_path / "out.pt", structured=True)


def studio(*args, cwd):
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "studio.cli", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd, env=env)


def test_the_command_prints_before_and_after_as_json(tmp_path):
    project = conv_project()
    io.save(project, tmp_path / "tiny.json")
    torch.save(conv_weights(project), tmp_path / "w.pt")
    run = studio("compress", "tiny.json", "--weights", "w.pt", "--method", "prune", "--structured",
                 "-o", "small.json", "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout)
    for side in ("before", "after"):
        assert set(FIGURES) <= set(figures[side])
    assert figures["after"]["flops"] < figures["before"]["flops"]
    assert figures["summary"]["after"]["networks"]["main"]["flops"] == figures["after"]["flops"]
    assert studio("check", "small.json", cwd=tmp_path).returncode == 0
    bad = studio("compress", "tiny.json", "--weights", "w.pt", "--method", "prune", "--amount", "2",
                 "-o", "x.pt", cwd=tmp_path)
    assert bad.returncode == 1 and bad.stderr.startswith("studio: --amount: 2.0 is outside (0, 1)")
    assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
