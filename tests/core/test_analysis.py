"""Analysis: shapes, counts and FLOPs from torch itself, clear messages, and incremental re-analysis."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from studio.compile import compile_network, example_inputs
from studio.graph import Analyzer, Project, io, lazy_dynamo
from studio.presets import resolve

from tests.core.helpers import chain, lenet, residual_block_project


def test_lenet_shapes_parameters_and_flops():
    project = lenet()
    report = Analyzer(project).analyse()
    net = project.network()
    assert report.ok
    assert report.total_params == 61706 == report.trainable_params
    assert report.nodes[net.by_name("pool2").id].outputs == {"out": (16, 5, 5)}
    assert report.nodes[net.by_name("fc1").id].inferred == {"in_features": 400}
    # torch's flop counter: 2 * MACs of conv1 = 2 * 6*28*28 * 25
    assert report.nodes[net.by_name("conv1").id].flops == 2 * 6 * 28 * 28 * 25


@pytest.mark.parametrize("preset", ["lenet5", "lstm_classifier", "transformer", "dcgan"])
def test_flops_are_those_torchs_flop_counter_finds_in_the_compiled_model(preset):
    project = io.load(resolve(preset))
    analyzer = Analyzer(project)
    for name in project.networks:
        model = compile_network(project, name, analyzer).to("meta")
        inputs = [x.to("meta") for x in example_inputs(project, name, batch=2, analyzer=analyzer)]
        with FlopCounterMode(display=False) as counter:
            model(*inputs)
        assert analyzer.analyse(name).flops == counter.get_total_flops() // 2 > 0


def test_a_meta_kernel_is_kept_from_the_compiler_once_torch_dynamo_is_loaded():
    def kernel(x):
        return x + 1

    stand_in = lazy_dynamo._UntilDynamo(kernel, recursive=True)
    import torch._dynamo  # noqa: F401  (what torch.compile or torch.export would have loaded)

    assert stand_in(1) == 2
    handed_over = getattr(kernel, "__dynamo_disable")  # torch's own cache, as its wrapper fills it
    assert handed_over is not stand_in and handed_over(1) == 2
    assert getattr(handed_over, "_torchdynamo_disable", False)


def _problem(project, network=None):
    report = Analyzer(project).analyse(network)
    assert report.problems, "expected a problem"
    return [str(p) for p in report.problems]


def test_unconnected_input_is_named():
    project = Project()
    net = project.add_network()
    chain(net, [("Input", "x", {"shape": [4]}), ("Linear", "fc", {}), ("Output", "y", {})])
    net.add_node("Add", "add")
    assert "main/add: Add 'add': input 'a' is not connected" in _problem(project)


def test_missing_output_is_reported():
    project = Project()
    chain(project.add_network(), [("Input", "x", {"shape": [4]}), ("Linear", "fc", {})])
    assert any("has no Output node" in p for p in _problem(project))


def test_integer_ids_into_a_float_layer_and_floats_into_embedding():
    project = Project()
    net = project.add_network()
    chain(net, [("Input", "ids", {"shape": [7], "dtype": "long"}), ("Linear", "fc", {}), ("Output", "y", {})])
    assert any("Linear 'fc' needs float values, got integer ids" in p for p in _problem(project))
    project = Project()
    chain(project.add_network(), [("Input", "x", {"shape": [7]}), ("Embedding", "emb", {}), ("Output", "y", {})])
    assert any("Embedding 'emb' needs integer ids" in p for p in _problem(project))


def test_wrong_rank_names_node_port_and_shapes():
    project = Project()
    chain(project.add_network(), [("Input", "x", {"shape": [400]}), ("Conv2d", "conv", {}), ("Output", "y", {})])
    (msg,) = _problem(project)
    assert msg == "main/conv: Conv2d 'conv' expects a 3-D input per sample, got 400 (1-D) on port 'in'"


def test_kernel_larger_than_input_and_merge_mismatch_give_torch_reasons_with_shapes():
    project = Project()
    chain(project.add_network(), [("Input", "x", {"shape": [1, 3, 3]}),
                                  ("Conv2d", "conv", {"kernel_size": 5}), ("Output", "y", {})])
    (msg,) = _problem(project)
    assert "conv" in msg and "Kernel size can't be greater than actual input size" in msg and "1×3×3" in msg
    project = Project()
    net = project.add_network()
    a = net.add_node("Input", "a", {"shape": [4, 6]})
    b = net.add_node("Input", "b", {"shape": [4, 5]})
    add = net.add_node("Add", "add")
    net.connect(a, "out", add, "a")
    net.connect(b, "out", add, "b")
    net.connect(add, "out", net.add_node("Output", "y"), "in")
    assert _problem(project) == ["main/add: Add 'add' cannot combine its inputs: got 4×6 on 'a' and 4×5 on 'b'"]


def test_nodes_below_an_error_are_blocked_without_extra_messages():
    project = lenet()
    net = project.network()
    net.set_params(net.by_name("conv1").id, {"kernel_size": 40})
    report = Analyzer(project).analyse()
    assert len(report.problems) == 1
    assert report.nodes[net.by_name("fc3").id].status == "blocked"


def test_bad_block_expression_is_reported():
    project = residual_block_project()
    project.block("basic").network.set_params(
        project.block("basic").network.by_name("conv1").id, {"out_channels": "$widht * 2"})
    (msg,) = _problem(project)
    assert "unknown name 'widht'" in msg and "stage" in msg and "basic" in msg


def test_blocks_repeat_and_take_arguments():
    project = residual_block_project(repeat=3)
    report = Analyzer(project).analyse()
    assert report.ok, [str(p) for p in report.problems]
    stage = report.nodes[project.network().by_name("stage").id]
    per_block = 2 * (8 * 8 * 9 + 8) + 2 * 16
    assert stage.params == 3 * per_block and len(stage.inner) == 3
    assert stage.outputs == {"y": (8, 8, 8)}


def test_only_what_is_downstream_is_analysed_again():
    project = lenet()
    net = project.network()
    analyzer = Analyzer(project)
    assert analyzer.analyse().computed == 14
    assert analyzer.analyse().computed == 0
    net.set_params(net.by_name("fc2").id, {"out_features": 50})
    report = analyzer.analyse()
    assert report.computed == 4  # fc2, relu4, fc3, logits
    assert report.nodes[net.by_name("fc3").id].inferred == {"in_features": 50}
    net.move(net.by_name("conv1").id, (5, 5))
    assert analyzer.analyse().computed == 0
    fresh = Analyzer(project).analyse()
    assert fresh.total_params == report.total_params


def test_analysis_matches_a_real_forward_with_attention_and_sequences():
    project = Project()
    net = project.add_network()
    chain(net, [("Input", "ids", {"shape": [12], "dtype": "long"}),
                ("Embedding", "emb", {"num_embeddings": 50, "embedding_dim": 16}),
                ("PositionalEncoding", "pos", {}),
                ("MultiheadAttention", "att", {"num_heads": 4, "causal": True}),
                ("LSTM", "lstm", {"hidden_size": 10, "output": "last", "bidirectional": True}),
                ("Linear", "fc", {"out_features": 3}), ("Output", "y", {})])
    report = Analyzer(project).analyse()
    assert report.ok, [str(p) for p in report.problems]
    from studio.compile import compile_network
    out = compile_network(project)(torch.randint(0, 50, (4, 12)))
    assert tuple(out.shape) == (4, 3)
    assert report.nodes[net.by_name("lstm").id].outputs["out"] == (20,)


def test_an_output_set_to_a_class_count_defines_classes_and_checks_its_input():
    project = Project()
    net = project.add_network()
    x = net.add_node("Input", "x", {"shape": [4]})
    fc = net.add_node("Linear", "fc", {"out_features": "$classes * 2"})
    out = net.add_node("Output", "y")
    net.connect(x, "out", fc, "in")
    net.connect(fc, "out", out, "in")
    analyzer = Analyzer(project)
    problem, = analyzer.analyse().problems
    assert "unknown name 'classes'" in problem.message and "Output node sets it" in problem.message
    net.set_params(out, {"classes": 3})
    report = analyzer.analyse()
    assert report.problems[0].node == "y"
    assert "set to 3 classes but gets 6 values per sample" in report.problems[0].message
    net.set_params(fc, {"out_features": "$classes"})
    assert analyzer.analyse().ok and analyzer.analyse().nodes[fc].outputs["out"] == (3,)


def test_a_layer_whose_output_goes_nowhere_is_a_warning_and_the_network_still_compiles():
    project = lenet()
    net = project.network()
    side = net.add_node("Conv2d", "side", {"out_channels": 4, "kernel_size": 3})
    net.connect(net.by_name("pool1").id, "out", side, "in")
    report = Analyzer(project).analyse()
    assert report.ok and not report.problems
    warning, = report.warnings
    assert (warning.node_id, warning.severity) == (side, "warning")
    assert str(warning) == ("main/side: warning: Conv2d 'side' is unused: its output goes nowhere; "
                            "connect it to the layers after it, or delete it")
    from studio.compile import compile_network
    assert compile_network(project)(torch.randn(2, 1, 32, 32)).shape == (2, 10)


def test_an_unconnected_input_is_the_one_problem_not_also_its_other_end():
    project = lenet()
    net = project.network()
    net.remove_node(net.by_name("relu2").id)  # conv2's output goes nowhere, pool2 gets nothing
    report = Analyzer(project).analyse()
    assert [p.node for p in report.problems] == ["pool2"] and report.warnings == []


def test_analysing_at_another_input_size_is_incremental_and_leaves_the_design_alone():
    project = lenet()
    net = project.network()
    analyzer = Analyzer(project)
    small = analyzer.analyse(input_shape=(1, 8, 8))
    assert [p.node for p in small.problems] == ["conv2"]  # 8 -> conv 4 -> pool 2: too small for a 5×5 kernel
    assert "Kernel size can't be greater than actual input size" in small.problems[0].message
    assert net.by_name("image").params["shape"] == [1, 32, 32]
    design = analyzer.analyse()
    assert design.ok and design.nodes[net.by_name("pool2").id].outputs["out"] == (16, 5, 5)
    big = analyzer.analyse(input_shape=(1, 40, 40))
    assert big.nodes[net.by_name("pool2").id].outputs["out"] == (16, 7, 7)
    net.set_params(net.by_name("fc2").id, {"out_features": 50})
    assert analyzer.analyse(input_shape=(1, 40, 40)).computed == 4  # fc2, relu4, fc3, logits
    assert analyzer.analyse().computed == 4
