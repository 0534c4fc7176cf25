"""What a run would hit that the design's own analysis does not show, found before it starts.

`training_problems(project, analyzer)` returns `Problem`s beyond the
analysis of each network as drawn:

- at the training size (``training.input_shape``): each layer that fails
  there but not at the design size, named with both sizes (errors);
- the Output against the task: a supervised classifier's Output must give
  one score per class, a 1-D value per sample, and the message says what to
  insert (errors);
- the loss against the last layer: kl_div and nll read log-probabilities
  (a LogSoftmax last), bce probabilities (a Sigmoid last; BCELoss refuses
  other values, so that one is an error); cross_entropy and bce_logits apply
  the softmax or sigmoid themselves, so one before them trains badly (warnings).

`project_problems` is everything `studio check` and the editor's Problems
list show; `run_problems` splits what a run of the trained networks meets
into errors (the run is refused) and warnings (it goes ahead).
`settle_classes` decides the class count a run trains with when the data's
differs from the Output's; `prepare_run` does all of it for `studio train`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from studio.errors import TrainingError
from studio.graph import Analyzer, Network, Node, Problem, Project, Report, format_shape
from studio.graph.analysis import unused_nodes
from studio.train.losses import resolve_loss_name
from studio.train.project_run import classes_output, data_network, role_networks, training_copy
from studio.train.recipes import RECIPES, make_recipe

# Layers that pass scores on unchanged in kind: the loss looks through them to the layer before.
_PASS_THROUGH = {"Dropout", "Dropout2d", "AlphaDropout", "Identity", "Flatten"}
# loss -> the last layers it reads correctly; anything else before it is reported.
_WANTS = {"kl_div": ("LogSoftmax",), "nll": ("LogSoftmax",), "bce": ("Sigmoid", "Softmax")}
# loss -> layers it already applies itself.
_APPLIES = {"cross_entropy": ("Softmax", "Sigmoid"), "bce_logits": ("Sigmoid",)}
_CLASS_LOSSES = ("cross_entropy", "nll")


def project_problems(project: Project, analyzer: Analyzer | None = None) -> list[Problem]:
    """Everything wrong with a project: each network's errors and warnings, unused layers
    inside block definitions, and `training_problems`."""
    analyzer = analyzer or Analyzer(project)
    problems: list[Problem] = []
    for name in project.networks:
        report = analyzer.analyse(name)
        problems += report.problems + report.warnings
    for block in project.blocks.values():
        problems += unused_nodes(block.network, block.name)
    return problems + training_problems(project, analyzer)


def run_problems(project: Project, analyzer: Analyzer, training: dict | None = None) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) a run with `training` meets in the networks it trains.

    Errors refuse the run: it would stop at its first batch. Warnings let it go on.
    """
    training = project.training if training is None else training
    try:
        nets = list(role_networks(project, training).values())
    except TrainingError as e:
        return [Problem(project.network().name, None, None, str(e))], []
    found: list[Problem] = []
    for net in nets:
        report = analyzer.analyse(net.name)
        found += report.problems + report.warnings
    found += training_problems(project, analyzer, training)
    return [p for p in found if p.severity == "error"], [p for p in found if p.severity == "warning"]


def training_problems(project: Project, analyzer: Analyzer, training: dict | None = None) -> list[Problem]:
    """The problems a run meets beyond each network's own analysis (see the module docstring)."""
    training = project.training if training is None else training
    if not project.networks:
        return []
    try:
        net = data_network(project, training)
    except TrainingError as e:
        return [Problem(project.network().name, None, None, str(e))]
    problems, report = _at_training_size(net, analyzer, training.get("input_shape"))
    if not _is_supervised(training.get("recipe", "supervised")):
        return problems
    classes = next((n.params["classes"] for n in net.iter_nodes()
                    if n.role == "output" and n.params.get("classes") is not None), None)
    loss = training.get("loss", "auto")
    classify = classes is not None or loss in _CLASS_LOSSES
    for out in (n for n in net.iter_nodes() if n.role == "output"):
        result = report.nodes.get(out.id)
        if result is None or result.status != "ok":
            continue
        if classify and len(result.outputs["out"]) != 1:
            problems.append(_not_one_score_per_class(net, report, out, classes))
        if loss != "auto" or classify:
            problems += _loss_problems(net, out, resolve_loss_name(loss, "classification" if classify else "regression"))
    return problems


def _at_training_size(net: Network, analyzer: Analyzer, shape) -> tuple[list[Problem], Report]:
    """Problems of `net` at the training size that it does not have at its design size, and the report to read."""
    design = analyzer.analyse(net.name)
    inputs = net.inputs()
    if shape is None:
        return [], design
    if len(inputs) != 1:
        return [Problem(net.name, None, None, f"training.input_shape needs a network with one Input; "
                        f"'{net.name}' has {len(inputs)}")], design
    if not (isinstance(shape, (list, tuple)) and shape and all(type(d) is int and d > 0 for d in shape)):
        return [Problem(net.name, inputs[0].id, inputs[0].name, f"training.input_shape {shape!r} is not a list of "
                        "positive whole numbers, e.g. [3, 32, 32]; fix or remove that setting")], design
    drawn = design.nodes[inputs[0].id].outputs.get("out")
    if drawn is None or tuple(shape) == drawn:  # an Input that fails has its own problem
        return [], design
    trained = analyzer.analyse(net.name, input_shape=tuple(shape))
    sizes = (f"at the training size {format_shape(tuple(shape))} (training.input_shape; the design size "
             f"{format_shape(drawn)} works)")
    fix = "; set training.input_shape to a size this layer takes, or remove that setting"
    fresh = [p for p in trained.problems if design.nodes.get(p.node_id) and design.nodes[p.node_id].status == "ok"]
    return [replace(p, message=f"{sizes}: {p.message}{fix}") for p in fresh], trained


def _is_supervised(recipe: str) -> bool:
    """True for recipes that put the data's targets straight against the network's Outputs."""
    from studio.train.recipes.supervised import SupervisedRecipe

    return recipe in RECIPES and isinstance(make_recipe(recipe), SupervisedRecipe)


def _not_one_score_per_class(net: Network, report: Report, out: Node, classes: int | None) -> Problem:
    shape = report.nodes[out.id].outputs["out"]
    want = f"{classes} values (one score per class)" if classes else "a 1-D vector (one score per class)"
    linear = _first_wide_linear(net, report, out)
    if linear is not None:
        node, got = linear
        fix = (f"insert a Flatten (or a pooling layer) before Linear '{node.name}', "
               f"which gets {format_shape(got)} per sample")
    else:
        fix = ("insert a Flatten before the Output, or a pooling layer (AdaptiveAvgPool2d with "
               "output_size 1, then a Flatten) after the last convolution")
    return Problem(net.name, out.id, out.name, f"Output '{out.name}' gets {format_shape(shape)} values per sample, "
                   f"but a classifier's Output needs {want}: {fix}")


def _first_wide_linear(net: Network, report: Report, out: Node) -> tuple[Node, tuple[int, ...]] | None:
    """The first Linear on the way to `out` that gets more than one dimension per sample, with that shape."""
    for node in net.iter_nodes():
        edge = net.incoming(node.id).get("in")
        if node.type != "Linear" or edge is None or not net.reaches(node.id, out.id):
            continue
        got = report.nodes[edge.src].outputs.get(edge.src_port)
        if got is not None and len(got) > 1:
            return node, got
    return None


def _loss_problems(net: Network, out: Node, loss: str) -> list[Problem]:
    """What the loss makes of the layer that feeds `out` (through dropout and the like)."""
    last = _last_layer(net, out)
    if last is None or last.role == "input":
        return []
    label = f"{last.type} '{last.name}'"
    if loss in _WANTS and last.type not in _WANTS[loss]:
        if loss == "bce":
            return [Problem(net.name, out.id, out.name, f"loss bce reads probabilities in 0..1, but Output '{out.name}' "
                            f"gets the values of {label}: add a Sigmoid before the Output, or use loss bce_logits")]
        fix = f"replace {label} with a LogSoftmax" if last.type == "Softmax" else "add a LogSoftmax (dim 1) before the Output"
        return [Problem(net.name, out.id, out.name, f"loss {loss} reads log-probabilities, but Output '{out.name}' gets "
                        f"the values of {label}, so the loss means nothing (it can fall below 0): {fix}",
                        severity="warning")]
    if last.type in _APPLIES.get(loss, ()):
        kind = "softmax" if loss == "cross_entropy" else "sigmoid"
        return [Problem(net.name, last.id, last.name, f"loss {loss} applies a {kind} itself, so {label} before "
                        f"Output '{out.name}' squashes the scores twice and trains badly: delete {label}",
                        severity="warning")]
    return []


def _last_layer(net: Network, out: Node) -> Node | None:
    """The layer whose values reach `out`, looking through dropout, Identity and Flatten."""
    edge = net.incoming(out.id).get("in")
    while edge is not None:
        node = net.node(edge.src)
        if node.type not in _PASS_THROUGH:
            return node
        edge = net.incoming(node.id).get("in")
    return None


@dataclass(frozen=True)
class ClassMismatch:
    """The data's class count differs from the Output's.

    `settable`: the Output has ``classes`` (a run may set them); otherwise
    `drawn` is the width its last layer gives, and only a narrower one is a mismatch.
    """

    network: Network
    output: Node
    drawn: int
    data: int
    source: str
    settable: bool = True

    def __str__(self) -> str:
        drawn = f"is set to {self.drawn}" if self.settable else f"gets {self.drawn} scores per sample"
        return f"the {self.source} data has {self.data} classes, but Output '{self.output.name}' {drawn}"

    @property
    def unlearnable(self) -> str:
        """Why a run as drawn would fail, and what to do (when the data has more classes than scores)."""
        fix = (f"set the Output's classes to {self.data} (studio train: --classes {self.data})" if self.settable
               else f"give the layer before it {self.data} outputs")
        return f"{self}, so classes {self.drawn} and above have no score to learn; {fix}"


def class_mismatch(project: Project, training: dict, data: dict, data_classes: Callable[[], int | None],
                   analyzer: Analyzer | None = None) -> ClassMismatch | None:
    """How the data's class count (`data_classes`, called only when needed) differs from the Output's, if it does.

    None for a recipe that does not score classes against the data's targets.
    An Output without ``classes`` is measured (`analyzer`, a fresh one by
    default); one value per sample is a binary score, never a mismatch.
    """
    if not _is_supervised(training.get("recipe", "supervised")):
        return None
    found = classes_output(project, training)
    if found is not None:
        net, output, drawn = found[0], found[1], found[1].params["classes"]
    else:
        net = data_network(project, training)
        report = (analyzer or Analyzer(project)).analyse(net.name)
        widths = [(n, report.nodes[n.id].outputs.get("out")) for n in net.iter_nodes() if n.role == "output"]
        output, shape = next(((n, w) for n, w in widths if w is not None), (None, None))
        if output is None or len(shape) != 1 or shape[0] == 1:
            return None
        drawn = shape[0]
    count = data_classes()
    if count is None or count == drawn or (found is None and count < drawn):
        return None
    return ClassMismatch(net, output, drawn, count, data.get("source", "training"), settable=found is not None)


def settle_classes(project: Project, training: dict, data: dict, data_classes: Callable[[], int | None],
                   preset: bool = False) -> tuple[dict, list[str]]:
    """The training section a run goes with, and what to tell the user about its class count.

    ``training["classes"]`` (``studio train --classes N``) is used as given
    and reported. Otherwise, when the data's class count differs from the
    Output's: a preset trains with the data's; another project trains as
    drawn, with a warning, or is refused when the data has more classes
    than the Output scores.

    Raises:
        TrainingError: the data has more classes than the Output, or
            ``classes`` names no Output to set.
    """
    chosen = training.get("classes")
    if chosen is not None:
        training_copy(project, training)  # refuses a count it cannot set, as the run would
        output = classes_output(project, training)[1]
        return training, [f"training with {chosen} classes (Output '{output.name}' is drawn with "
                          f"{output.params['classes']})"]
    mismatch = class_mismatch(project, training, data, data_classes)
    if mismatch is None:
        return training, []
    if preset and mismatch.settable:
        return {**training, "classes": mismatch.data}, [
            f"{mismatch}: training with {mismatch.data} (a preset takes the data's count; --classes N chooses another)"]
    if mismatch.data > mismatch.drawn:
        raise TrainingError(mismatch.unlearnable)
    return training, [f"warning: {mismatch}: training a {mismatch.drawn}-way output "
                      f"(--classes {mismatch.data} trains a {mismatch.data}-way one)"]


def prepare_run(project: Project, training: dict, data: dict, data_classes: Callable[[], int | None],
                preset: bool = False) -> tuple[dict, list[str]]:
    """Checks a run before it starts: the training section to run with, and the lines to tell the user.

    The class count is settled first (`settle_classes`), then the trained
    networks are checked as they will train (`run_problems`); warnings come
    back as lines, errors refuse the run.

    Raises:
        TrainingError: the run would fail at its first batch; names the first problem.
    """
    training, notes = settle_classes(project, training, data, data_classes, preset)
    drawn = training_copy(project, {k: v for k, v in training.items() if k != "input_shape"})
    errors, warnings = run_problems(drawn, Analyzer(drawn), training)
    if errors:
        more = f" (and {len(errors) - 1} more: studio check lists them)" if len(errors) > 1 else ""
        raise TrainingError(f"cannot train: {errors[0]}{more}")
    return training, notes + [str(w) for w in warnings]
