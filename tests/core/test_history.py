"""Undo without Qt: any sequence of edits, undone, gives the project back; redone, gives the edited one."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.errors import StudioError
from studio.graph import io
from studio.graph.blocks import collapse
from studio.graph.history import Change
from studio.graph.subgraph import copy_data, paste
from studio.presets import presets_dir

_TYPES = ("ReLU", "Linear", "Conv2d", "Flatten", "Dropout")
_SETTINGS = (("training", "epochs"), ("training", "lr"), ("data", "val_split"), ("training", "augment"))
_VALUES = (None, 3, 0.25, {"flip": True}, "x")


def _nth(net, i):
    ids = list(net.nodes)
    return ids[i % len(ids)] if ids else None


def _edit(project, op):
    """One edit made of primitives (it may be refused: GraphError and friends)."""
    net = project.networks["main"]
    kind, a, b = op
    node = _nth(net, a)
    if kind == "add":
        net.add_node(_TYPES[a % len(_TYPES)], pos=(a, b))
    elif kind == "remove" and node:
        net.remove_node(node)
    elif kind == "rename" and node:
        net.rename(node, f"n{a}_{b}")
    elif kind == "move" and node:
        net.move(node, (a * 10.0, b * 10.0))
    elif kind == "params" and node and net.nodes[node].type == "Linear":
        net.set_params(node, {"out_features": 1 + b % 50})
    elif kind == "connect" and node:
        src, dst = net.nodes[node], net.nodes[_nth(net, b)]
        net.connect(src.id, net.ports(src)[1][0], dst.id, net.ports(dst)[0][0])
    elif kind == "disconnect" and net.edges:
        net.disconnect(sorted(net.edges, key=str)[a % len(net.edges)])
    elif kind == "setting":
        section, key = _SETTINGS[a % len(_SETTINGS)]
        project.set_setting(section, key, _VALUES[b % len(_VALUES)])
    elif kind == "freeze" and node:
        project.set_frozen("main", node, bool(b % 2))
    elif kind == "paste" and node:
        paste(net, copy_data(net, list(net.nodes)[a % 5:a % 5 + 1 + b % 3]))
    elif kind == "collapse" and node:
        chosen = [i for i in list(net.nodes)[a % 7:a % 7 + 1 + b % 3] if net.nodes[i].type not in ("Input", "Output")]
        collapse(project, net, chosen, f"block{len(project.blocks)}")


_OPS = st.tuples(st.sampled_from(("add", "remove", "rename", "move", "params", "connect", "disconnect",
                                  "setting", "freeze", "paste", "collapse")),
                 st.integers(0, 30), st.integers(0, 30))


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_OPS, min_size=1, max_size=12))
def test_undo_all_gives_the_original_and_redo_all_the_edited(ops):
    project = io.load(presets_dir() / "lenet5.json")
    original = io.to_dict(project)
    changes = []
    for op in ops:
        try:
            change, _ = Change.record(project, op[0], lambda op=op: _edit(project, op))
        except (StudioError, IndexError):
            assert io.to_dict(project) == (io.to_dict(changes[-1].project) if changes else original)
            continue
        changes.append(change)
        project.check()
    edited = io.to_dict(project)
    for change in reversed(changes):
        change.undo()
        project.check()
    assert io.to_dict(project) == original
    for change in changes:
        change.redo()
    project.check()
    assert io.to_dict(project) == edited


def test_a_refused_edit_leaves_nothing_behind():
    project = io.load(presets_dir() / "lenet5.json")
    original = io.to_dict(project)
    net = project.networks["main"]

    def half_done():
        project.set_setting("training", "epochs", 99)
        project.set_frozen("main", net.by_name("conv1").id, True)
        net.rename(net.by_name("conv1").id, "conv2")  # taken: refused
    with pytest.raises(StudioError):
        Change.record(project, "bad", half_done)
    assert io.to_dict(project) == original


def test_settings_events_carry_old_and_new_values():
    project = io.load(presets_dir() / "lenet5.json")
    seen = []
    project.setting_changed.connect(lambda *args: seen.append(args))
    old = project.training["epochs"]
    project.set_setting("training", "epochs", old + 3)
    project.set_setting("training", "epochs", old + 3)  # no change: no event
    project.set_setting("training", "label_smoothing", None)  # absent stays absent: no event
    assert seen == [("training", "epochs", old, old + 3)]


def test_a_frozen_layer_stays_frozen_when_renamed_and_the_file_names_it():
    project = io.load(presets_dir() / "lenet5.json")
    net = project.networks["main"]
    conv = net.by_name("conv1").id
    project.set_frozen("main", conv, True)
    net.rename(conv, "features")
    assert project.frozen_ids("main") == {conv}
    data = io.to_dict(project)
    assert data["training"]["frozen"] == ["features"]
    again = io.from_dict(data)
    assert again.frozen_ids("main") == {conv}
    assert "frozen" not in again.training  # kept on the nodes, not as names that can go stale
