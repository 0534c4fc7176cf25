"""One table-driven test over the whole catalog: every layer type, built with its defaults."""

import json

import pytest
import torch

from studio import catalog
from studio.catalog import Param, check_value
from studio.compile import compile_network
from studio.graph import Analyzer, Project

# Input sample shapes (no batch) and dtype per layer type; the rest get SAMPLE_BY_RANK.
SAMPLES = {
    "Conv1d": [(3, 16)], "ConvTranspose1d": [(3, 16)], "MaxPool1d": [(3, 16)], "AvgPool1d": [(3, 16)],
    "AdaptiveAvgPool1d": [(3, 16)], "AdaptiveMaxPool1d": [(3, 16)], "BatchNorm1d": [(3, 16)],
    "Conv3d": [(2, 6, 6, 6)], "ConvTranspose3d": [(2, 6, 6, 6)], "MaxPool3d": [(2, 6, 6, 6)],
    "AvgPool3d": [(2, 6, 6, 6)], "BatchNorm3d": [(2, 6, 6, 6)],
    "Conv2d": [(3, 8, 8)], "ConvTranspose2d": [(3, 8, 8)], "MaxPool2d": [(3, 8, 8)], "AvgPool2d": [(3, 8, 8)],
    "AdaptiveAvgPool2d": [(3, 8, 8)], "AdaptiveMaxPool2d": [(3, 8, 8)], "BatchNorm2d": [(3, 8, 8)],
    "GlobalAvgPool": [(3, 8, 8)], "InstanceNorm2d": [(3, 8, 8)], "LocalResponseNorm": [(8, 4, 4)],
    "GroupNorm": [(16, 4, 4)], "Dropout2d": [(3, 8, 8)], "PixelShuffle": [(8, 4, 4)],
    "ZeroPad2d": [(3, 8, 8)], "ReflectionPad2d": [(3, 8, 8)], "Upsample": [(3, 4, 4)],
    "Bilinear": [(5,), (7,)], "Add": [(4, 6), (4, 6)], "Subtract": [(4, 6), (4, 6)],
    "Multiply": [(4, 6), (4, 6)], "Divide": [(4, 6), (4, 6)], "MatMul": [(4, 6), (6, 3)], "Concat": [(4, 6), (2, 6)],
    "Stack": [(4, 6), (4, 6)], "Embedding": [(7,)], "EmbeddingBag": [(7,)],
    "RNN": [(5, 12)], "LSTM": [(5, 12)], "GRU": [(5, 12)],
    "MultiheadAttention": [(5, 16)], "ScaledDotProductAttention": [(5, 16)],
    "TransformerEncoderLayer": [(5, 16)], "TransformerDecoderLayer": [(5, 16), (7, 16)],
    "AdditiveAttention": [(5, 12), (7, 16)],
    "PositionalEncoding": [(5, 16)], "Unflatten": [(784,)], "Reshape": [(4, 6)], "Permute": [(4, 6)],
    "Transpose": [(4, 6)], "Squeeze": [(4, 1)], "Chunk": [(4, 6)], "Split": [(2, 6)], "Slice": [(5, 6)],
    "Select": [(5, 6)], "Mean": [(5, 6)], "LogSumExp": [(5, 6)], "Vote": [(3, 6)], "Softmax": [(5, 6)], "LogSoftmax": [(5, 6)],
    "PadTo": [(3, 4, 5), (2, 6, 6)], "ResizeTo": [(3, 4, 4), (2, 8, 6)], "ClassToken": [(5, 16)],
    "Pad": [(3, 4, 4)],
}
PARAMS = {"TransformerEncoderLayer": {"nhead": 4, "dim_feedforward": 32},
          "TransformerDecoderLayer": {"nhead": 4, "dim_feedforward": 32},
          "Reshape": {"shape": [2, 12]}, "Permute": {"dims": [0, 2, 1]}, "Module": {"target": "torch.nn:Softsign"}}
LAYERS = [t for t in catalog.REGISTRY if t not in ("Input", "Output")]


@pytest.fixture(autouse=True)
def trusted_code(monkeypatch):
    """The "Module" layer runs code only once trusted (studio/trust.py): here, torch.nn:Softsign."""
    monkeypatch.setenv("STUDIO_TRUST_ALL_CODE", "1")


def single_layer(type_name: str) -> tuple[Project, list[torch.Tensor]]:
    """Inputs -> the layer -> one Output per output port."""
    spec = catalog.get(type_name)
    samples = SAMPLES.get(type_name, [(4, 6)])
    dtype = "long" if spec.dtype == "long" else "float"
    project = Project(type_name)
    net = project.add_network()
    layer = net.add_node(type_name, "layer", PARAMS.get(type_name, {}))
    ins, outs = net.ports(net.node(layer))
    tensors = []
    for i, (port, shape) in enumerate(zip(ins, samples)):
        nid = net.add_node("Input", f"x{i}", {"shape": list(shape), "dtype": dtype})
        net.connect(nid, "out", layer, port)
        tensors.append(torch.randint(0, 10, (3, *shape)) if dtype == "long" else torch.randn(3, *shape))
    for port in outs:
        net.connect(layer, port, net.add_node("Output", f"y_{port}"), "in")
    return project, tensors


@pytest.mark.parametrize("type_name", LAYERS)
def test_every_layer_meta_shape_equals_real_shape(type_name):
    project, tensors = single_layer(type_name)
    report = Analyzer(project).analyse()
    assert report.ok, [str(p) for p in report.problems]
    gm = compile_network(project)
    gm.graph.lint()
    gm.eval()
    with torch.no_grad():
        out = gm(*tensors)
    outs = out if isinstance(out, tuple) else (out,)
    net = project.network()
    layer = net.by_name("layer")
    expected = [report.nodes[layer.id].outputs[p] for p in net.ports(layer)[1]]
    assert [tuple(o.shape[1:]) for o in outs] == expected
    assert report.total_params == sum(p.numel() for p in gm.parameters())


@pytest.mark.parametrize("type_name", list(catalog.REGISTRY))
def test_every_spec_is_complete_and_its_defaults_round_trip_json(type_name):
    spec = catalog.get(type_name)
    assert spec.doc and spec.category and spec.doc.endswith(".")
    defaults = spec.defaults()
    assert json.loads(json.dumps(defaults)) == defaults
    for p in spec.params:
        assert p.doc, f"{type_name}.{p.name} has no doc"
        if not p.inferred and p.default is not None:
            assert check_value(p, p.default) == p.default
        if p.kind == "choice":
            assert p.default in p.choices


def test_catalog_has_every_layer_the_issue_names():
    wanted = """Input Output Linear Bilinear Identity Conv1d Conv2d Conv3d ConvTranspose1d ConvTranspose2d
    ConvTranspose3d MaxPool1d MaxPool2d MaxPool3d AvgPool1d AvgPool2d AvgPool3d AdaptiveAvgPool1d
    AdaptiveAvgPool2d AdaptiveMaxPool1d AdaptiveMaxPool2d GlobalAvgPool BatchNorm1d BatchNorm2d BatchNorm3d
    LayerNorm GroupNorm InstanceNorm2d LocalResponseNorm Dropout Dropout2d AlphaDropout ReLU ReLU6 LeakyReLU
    PReLU ELU SELU CELU GELU SiLU Mish Sigmoid Tanh Softplus Softsign Hardtanh Hardswish Softmax LogSoftmax
    Flatten Unflatten Reshape Permute Transpose Squeeze Unsqueeze Select Slice Chunk Split Add Subtract
    Multiply Concat Stack MatMul Mean Embedding EmbeddingBag RNN LSTM GRU MultiheadAttention
    ScaledDotProductAttention TransformerEncoderLayer TransformerDecoderLayer PositionalEncoding Upsample
    PixelShuffle ZeroPad2d ReflectionPad2d""".split()
    assert set(wanted) <= set(catalog.REGISTRY)


def test_inferred_parameters_are_never_settable():
    project = Project()
    net = project.add_network()
    nid = net.add_node("Linear")
    with pytest.raises(Exception, match="follows from the input shape"):
        net.set_params(nid, {"in_features": 5})


@pytest.mark.parametrize("output,expected", [("sequence", (5, 8)), ("last", (8,)), ("hidden", (8,))])
def test_lstm_output_choices(output, expected):
    project, tensors = single_layer("LSTM")
    net = project.network()
    net.set_params(net.by_name("layer").id, {"output": output, "hidden_size": 8})
    report = Analyzer(project).analyse()
    assert report.nodes[net.by_name("layer").id].outputs["out"] == expected
    assert tuple(compile_network(project)(*tensors).shape[1:]) == expected


def test_unknown_type_suggests_close_names():
    with pytest.raises(Exception, match="did you mean Conv2d"):
        catalog.get("Conv2D")


def test_every_parameter_kind_has_one_entry_that_reads_typed_text_and_checks_it():
    from studio.catalog.spec import PARAM_KINDS
    from studio.catalog.values import KINDS, format_value, parse_value

    assert set(KINDS) == set(PARAM_KINDS)
    typed = {"int": ("7", 7), "optional_int": ("", None), "float": ("1e-3", 0.001), "optional_float": ("0.5", 0.5),
             "bool": ("yes", True), "choice": ("max", "max"), "ints": ("3, 5", [3, 5]), "shape": ("[1, 28, 28]", [1, 28, 28]),
             "str": ("hello", "hello")}
    assert set(typed) == set(KINDS)
    for kind, (text, value) in typed.items():
        param = Param("p", kind, default=value, choices=("max", "mean") if kind == "choice" else ())
        assert parse_value(kind, text, param.choices) == value
        assert check_value(param, value) == value
        if value is not None:
            assert parse_value(kind, format_value(value), param.choices) == value  # what the editor shows reads back
    assert parse_value("ints", "same", choices=("same",)) == "same" and parse_value("ints", "4") == 4
    assert parse_value("int", "$width * 2", allow_expr=True) == "$width * 2"
    for kind, text, message in (("int", "2.5", "not a whole number"), ("bool", "maybe", "not true or false"),
                                ("shape", "", "one or more whole numbers"), ("float", "x", "not a number")):
        with pytest.raises(ValueError, match=message):
            parse_value(kind, text)
    with pytest.raises(ValueError, match="unknown kind"):
        check_value(Param("p", "colour", default=1), 1)


def test_the_ends_of_a_network_are_found_by_role_in_the_order_they_were_added():
    from studio.graph import Network

    net = Network()
    y = net.add_node(catalog.OUTPUT, "y")
    a = net.add_node(catalog.INPUT, "a")
    relu = net.add_node("ReLU")
    b = net.add_node(catalog.INPUT, "b")
    assert [n.id for n in net.inputs()] == [a, b]
    assert [n.id for n in net.outputs()] == [y]
    assert net.node(relu).role == "layer" and catalog.role("Block") == "layer"
