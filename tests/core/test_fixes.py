"""One-click fixes: each rule recognises its mistake, its edit clears the problem, one recorded change undoes it."""

from studio.graph import Analyzer, Project
from studio.graph.fixes import RULES, fixes_for
from studio.graph.history import Change
from studio.train.preflight import training_problems

from tests.core.helpers import chain, lenet


def _problems(project, analyzer):
    return analyzer.analyse().problems + training_problems(project, analyzer)


def _apply(project, kind, index=0):
    """Applies the `index`-th fix of `kind` offered for the first problem that has one; (change, problems after)."""
    analyzer = Analyzer(project)
    net = project.network()
    report = analyzer.analyse()
    offers = [f for p in _problems(project, analyzer) for f in fixes_for(project, net, report, p) if f.kind == kind]
    assert offers, f"no {kind} fix offered"
    change, _ = Change.record(project, offers[index].text, offers[index].apply)
    project.check()
    return offers[index], change, _problems(project, analyzer)


def _without_flatten():
    project = lenet()
    project.data, project.training = {"source": "digits"}, {"loss": "cross_entropy"}
    net = project.network()
    net.remove_node(net.by_name("flatten").id)
    net.connect(net.by_name("pool2").id, "out", net.by_name("fc1").id, "in")
    return project


def test_a_linear_after_convolutions_gets_flatten_or_global_pooling():
    fix, change, after = _apply(_without_flatten(), "flatten")
    assert fix.text == "insert Flatten before 'fc1' (it gets 16×5×5)" and not after
    project = _without_flatten()
    fix, _, after = _apply(project, "flatten", 1)
    assert fix.text.startswith("insert GlobalAvgPool before 'fc1'") and not after
    assert Analyzer(project).analyse().nodes[project.network().by_name("fc1").id].inferred == {"in_features": 16}
    change.undo()


def test_an_output_of_the_wrong_width_gets_its_count_or_the_last_layer_fixed():
    project = lenet()
    net = project.network()
    net.set_params(net.by_name("logits").id, {"classes": 7})
    fix, change, after = _apply(project, "classes")
    assert fix.text == "set 'fc3' to $classes outputs" and not after
    assert net.by_name("fc3").params["out_features"] == "$classes"
    change.undo()
    assert net.by_name("fc3").params["out_features"] == 10 and _problems(project, Analyzer(project))
    fix, _, after = _apply(project, "classes", 1)
    assert fix.text == "set 'logits' to 10 classes" and not after


def test_branches_with_different_channel_counts_get_matched():
    project = Project()
    net = project.add_network("main")
    x = net.add_node("Input", "x", {"shape": [3, 8, 8]})
    a = chain(net, [("Conv2d", "c1", {"out_channels": 8, "kernel_size": 3, "padding": 1})], start=x)
    b = chain(net, [("Conv2d", "c2", {"out_channels": 16, "kernel_size": 3, "padding": 1}),
                    ("BatchNorm2d", "bn", {}), ("ReLU", "act", {})], start=x)
    add = net.add_node("Add", "add")
    net.connect(a, "out", add, "a")
    net.connect(b, "out", add, "b")
    chain(net, [("Output", "y", {})], start=add)
    fix, change, after = _apply(project, "channels")
    assert fix.text == "set 'c2' to 8 output channels" and not after
    change.undo()
    assert net.by_name("c2").params["out_channels"] == 16


def test_a_sequence_layer_fed_an_image_gets_a_reshape():
    project = Project()
    net = project.add_network("main")
    chain(net, [("Input", "x", {"shape": [1, 28, 28]}), ("LSTM", "lstm", {}), ("Output", "y", {})])
    fix, change, after = _apply(project, "sequence")
    assert fix.text == "insert Reshape to 28×28 (steps × features) before 'lstm'" and not after
    change.undo()
    assert len(net.nodes) == 3 and _problems(project, Analyzer(project))


def test_no_fix_is_offered_for_a_network_without_these_mistakes():
    project = lenet()
    analyzer = Analyzer(project)
    report = analyzer.analyse()
    net = project.network()
    net.set_params(net.by_name("conv1").id, {"kernel_size": 40})  # too big a kernel: no rule knows that one
    report = analyzer.analyse()
    assert report.problems
    assert all(fixes_for(project, net, report, p) == [] for p in report.problems)
    assert set(RULES) == {"flatten", "classes", "channels", "sequence"}
