"""Exports keep the batch, sequence and spatial dimensions dynamic where the network allows, and say what fixes the rest."""

from pathlib import Path

import onnx
import onnxruntime
import pytest
import torch

import studio

from studio.compile import compile_network, example_inputs
from studio.export import export
from studio.graph import Project, io
from studio.presets import resolve

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def conv_net(pool: str = "GlobalAvgPool") -> Project:
    project = Project("convs")
    net = project.add_network()
    x = net.add_node("Input", "image", {"shape": [3, 16, 16]})
    conv = net.add_node("Conv2d", "conv", {"out_channels": 4, "padding": 1, "stride": 2})
    pool_id = net.add_node(pool, "pool", {} if pool == "GlobalAvgPool" else {"output_size": 2})
    flat = net.add_node("Flatten", "flat")
    fc = net.add_node("Linear", "fc", {"out_features": 3})
    out = net.add_node("Output", "out")
    for a, b in ((x, conv), (conv, pool_id), (pool_id, flat), (flat, fc), (fc, out)):
        net.connect(a, "out", b, "in")
    return project


def reload(fmt, path):
    if fmt == "pt2":
        return torch.export.load(str(path)).module()
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return lambda *xs: torch.from_numpy(session.run(None, {n: x.numpy() for n, x in zip(names, xs)})[0])


def live(project, state):
    model = compile_network(project)
    model.load_state_dict(state)
    return model.eval()


def test_the_transformer_preset_runs_at_other_source_and_target_lengths(tmp_path):
    project = io.load(resolve("transformer"))
    state = compile_network(project).state_dict()
    result = export(project, "pt2", tmp_path / "t.pt2", weights=state)
    assert result.dynamic == ["batch", "source_length (2..64)", "target_in_length (2..64)"]  # max_len 64
    loaded, model = reload("pt2", result.path), live(project, state)
    for batch, source, target in ((1, 7, 3), (4, 23, 15)):
        src, tgt = torch.randint(1, 40, (batch, source)), torch.randint(1, 40, (batch, target))
        with torch.no_grad():
            torch.testing.assert_close(loaded(src, tgt), model(src, tgt), rtol=1e-4, atol=1e-5)


def token_net() -> Project:
    project = Project("tokens")
    net = project.add_network()
    chain = [net.add_node("Input", "tokens", {"shape": [12], "dtype": "long"}),
             net.add_node("Embedding", "embed", {"num_embeddings": 30, "embedding_dim": 16}),
             net.add_node("PositionalEncoding", "position", {"max_len": 32}),
             net.add_node("TransformerEncoderLayer", "encoder", {"nhead": 2, "dim_feedforward": 32}),
             net.add_node("Linear", "head", {"out_features": 30}), net.add_node("Output", "logits")]
    for a, b in zip(chain, chain[1:]):
        net.connect(a, "out", b, "in")
    return project


def test_onnx_keeps_a_token_sequence_dynamic_up_to_the_position_codes(tmp_path):
    project = token_net()
    state = compile_network(project).state_dict()
    result = export(project, "onnx", tmp_path / "t.onnx", weights=state)
    assert result.dynamic == ["batch", "tokens_length (2..32)"]
    loaded, model = reload("onnx", result.path), live(project, state)
    for batch, length in ((1, 5), (3, 32)):
        ids = torch.randint(0, 30, (batch, length))
        with torch.no_grad():
            torch.testing.assert_close(loaded(ids), model(ids), rtol=1e-4, atol=1e-5)


def test_onnx_names_the_dynamic_dimensions(tmp_path):
    result = export(conv_net(), "onnx", tmp_path / "c.onnx")
    graph = onnx.load(str(result.path)).graph
    dims = [d.dim_param or d.dim_value for d in graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", 3, "image_height", "image_width"]
    assert result.dynamic == ["batch", "image_height", "image_width"] and not result.notes[1:]


@pytest.mark.parametrize("fmt", ["pt2", "onnx"])
def test_a_convolutional_network_runs_at_other_image_sizes(fmt, tmp_path):
    project = conv_net()
    state = compile_network(project).state_dict()
    result = export(project, fmt, tmp_path / f"c.{fmt}", weights=state)
    loaded, model = reload(fmt, result.path), live(project, state)
    for size in ((9, 9), (30, 12)):
        x = torch.randn(2, 3, *size)
        with torch.no_grad():
            torch.testing.assert_close(loaded(x), model(x), rtol=1e-4, atol=1e-5)


def test_the_lstm_classifier_says_the_lstm_fixes_its_length_where_it_does(tmp_path):
    project = io.load(resolve("lstm_classifier"))
    pt2 = export(project, "pt2", tmp_path / "l.pt2")
    assert pt2.dynamic == ["batch"]
    assert pt2.notes[-1].startswith("tokens_length is fixed at 20: LSTM 'lstm' (torch.export unrolls recurrent")
    script = export(project, "torchscript", tmp_path / "l.pt")
    assert script.dynamic == ["batch", "tokens_length"]
    loaded, model = torch.jit.load(str(script.path)), compile_network(project).eval()
    model.load_state_dict(torch.jit.load(str(script.path)).state_dict())
    ids = torch.randint(0, 10, (3, 35))
    with torch.no_grad():
        torch.testing.assert_close(loaded(ids), model(ids))


def test_a_flattened_image_is_fixed_by_the_linear_layer_that_reads_it(tmp_path):
    result = export(io.load(resolve("lenet5")), "pt2", tmp_path / "l.pt2")
    assert result.dynamic == ["batch"]
    assert result.notes[-1] == ("image_height, image_width are fixed at 32×32: Linear 'fc1' has weights for "
                                "in_features 400, which follows from this size")


def test_onnx_names_adaptive_pooling_when_it_fixes_the_image_size(tmp_path):
    onnx_result = export(conv_net("AdaptiveAvgPool2d"), "onnx", tmp_path / "a.onnx")
    assert onnx_result.dynamic == ["batch"]
    assert "AdaptiveAvgPool2d 'pool' (the ONNX exporter" in onnx_result.notes[-1]
    pt2 = export(conv_net("AdaptiveAvgPool2d"), "pt2", tmp_path / "a.pt2")
    assert pt2.dynamic == ["batch", "image_height", "image_width"]


def test_example_inputs_take_other_shapes_by_input_name():
    project = conv_net()
    assert example_inputs(project, batch=3, shapes={"image": [3, 5, 7]})[0].shape == (3, 3, 5, 7)


def test_onnx_names_nodes_values_and_folded_weights_after_the_layers_and_keeps_no_paths(tmp_path):
    project = conv_net()
    net = project.network()
    bn = net.add_node("BatchNorm2d", "bn")
    conv, pool = net.by_name("conv").id, net.by_name("pool").id
    net.disconnect(net.incoming(pool)["in"])
    net.connect(conv, "out", bn, "in")
    net.connect(bn, "out", pool, "in")
    result = export(project, "onnx", tmp_path / "c.onnx")
    model = onnx.load(str(result.path))
    nodes = [*model.graph.node, *(n for f in model.functions for n in f.node)]
    names = {n.op_type: n.name for n in nodes}
    assert names["Conv"] == "conv+bn" and names["Gemm"] == "fc"  # the project's layers; BatchNorm folded says so
    assert not any(n.name.startswith("node_") for n in nodes)
    values = {v for n in nodes for v in [*n.input, *n.output]}
    assert not any(v.startswith(("getitem", "val_")) for v in values) and "conv+bn" in values
    assert "conv.weight.bn_folded" in {i.name for i in model.graph.initializer}
    raw = result.path.read_bytes()
    for path in (tmp_path, Path(torch.__file__).parent, Path(studio.__file__).parent, Path.cwd()):
        assert str(path).encode() not in raw
    assert not any(n.metadata_props for n in nodes)


def test_onnx_draws_a_layer_of_several_operators_as_one_node_named_after_it(tmp_path):
    result = export(conv_net(), "onnx", tmp_path / "c.onnx")  # dynamic sizes: conv and pool compute theirs
    model = onnx.load(str(result.path))
    layers = {"conv", "pool"}
    assert layers <= {f.name for f in model.functions} and layers <= {n.name for n in model.graph.node}
    calls = [n for n in model.graph.node if n.name in layers]
    assert all(n.domain == "studio.layers" and n.op_type == n.name for n in calls)
    assert "Conv" in {n.op_type for f in model.functions if f.name == "conv" for n in f.node}
    assert result.max_abs_diff < 1e-5  # onnxruntime ran the file (it inlines the functions) and agreed


def test_onnx_export_of_a_loop_keeps_the_names_its_body_reads(tmp_path):
    """fastText's bag of n-grams exports as an ONNX Loop whose body reads values of the graph around it: renamed
    values must be renamed inside the body too (onnxruntime refused the file)."""
    result = export(io.load(resolve("fasttext")), "onnx", tmp_path / "f.onnx")
    model = onnx.load(str(result.path))
    assert "Loop" in {n.op_type for n in model.graph.node} and result.max_abs_diff < 1e-5
