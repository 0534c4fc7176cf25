"""The project file: round trips, atomic saves, and a clear refusal of every kind of bad file."""

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio import catalog
from studio.errors import ProjectFileError, StudioError
from studio.graph import Analyzer, Project, io

from tests.core.helpers import lenet, residual_block_project


def test_round_trip_keeps_everything(tmp_path):
    project = residual_block_project()
    project.data = {"source": "digits"}
    project.training = {"epochs": 2}
    path = tmp_path / "p.json"
    io.save(project, path)
    again = io.load(path)
    again.check()
    assert io.to_dict(again) == io.to_dict(project)
    assert Analyzer(again).analyse().total_params == Analyzer(project).analyse().total_params


@pytest.mark.parametrize("text,where,what", [
    ('{"format": 1, "networks": {', "line 1", "ends too early"),
    ("not json at all", "line 1, column 1", "not valid JSON"),
    ('{"format": 99, "networks": {}}', "format", "newer Network Studio"),
    ('{"networks": {}}', "format", "missing or invalid format"),
    ('[1, 2]', "", "must be an object"),
    ('{"format": 1, "networks": {}}', "networks", "no network"),
    ('{"format": 1, "networks": {"main": {"nodes": [{"id": "a", "type": "Conv9d", "name": "c"}]}}}',
     "networks.main.nodes[0]", "unknown layer type 'Conv9d'"),
    ('{"format": 1, "networks": {"main": {"nodes": [{"id": "a", "type": "Linear", "name": "fc", '
     '"params": {"out_features": -3}}]}}}', "networks.main.nodes[0]", "at least 1"),
    ('{"format": 1, "networks": {"main": {"nodes": [{"id": "a", "type": "ReLU", "name": "r"}], '
     '"edges": [["a", "out", "zz", "in"]]}}}', "networks.main.edges[0]", "no node with id 'zz'"),
    ('{"format": 1, "networks": {"main": {"nodes": [{"id": "a", "type": "ReLU", "name": "r", "pos": "left"}]}}}',
     "networks.main.nodes[0].pos", "must be [x, y]"),
])
def test_bad_files_are_refused_naming_file_and_place(tmp_path, text, where, what):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ProjectFileError) as info:
        io.load(path)
    err = info.value
    assert err.path == str(path) and err.where.startswith(where) and what in str(err)
    assert str(err).startswith(str(path))
    assert err.exit_code == 2


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(ProjectFileError, match="no such file"):
        io.load(tmp_path / "nope.json")
    (tmp_path / "b.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ProjectFileError, match="not a text file"):
        io.load(tmp_path / "b.json")


def test_a_failed_save_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "p.json"
    io.save(lenet(), path)
    before = path.read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(StudioError, match=r"disk full \(No space left on device\): could not write the project to .*"
                                          r"\(needed .*, free .*\); free some disk space"):
        io.save(residual_block_project(), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.json"]  # no temporary file left behind


SIMPLE = [t for t, s in catalog.REGISTRY.items() if t not in ("Input", "Output")]


@st.composite
def projects(draw):
    project = Project(draw(st.text("abcxyz_", min_size=1, max_size=8)))
    net = project.add_network("main")
    ids = []
    for i in range(draw(st.integers(1, 8))):
        type_name = draw(st.sampled_from(SIMPLE))
        spec = catalog.get(type_name)
        params = {}
        for p in spec.params:
            if p.kind == "int" and not p.inferred and draw(st.booleans()):
                lo, hi = int(p.min if p.min is not None else -3), int(min(p.max if p.max is not None else 64, 64))
                params[p.name] = draw(st.integers(lo, hi))
            elif p.kind == "bool" and draw(st.booleans()):
                params[p.name] = draw(st.booleans())
            elif p.kind == "choice" and draw(st.booleans()):
                params[p.name] = draw(st.sampled_from(p.choices))
        pos = (draw(st.floats(-1e4, 1e4)), draw(st.floats(-1e4, 1e4)))
        nid = net.add_node(type_name, params=params, pos=pos)
        if ids and draw(st.booleans()):
            src = draw(st.sampled_from(ids))
            outs, ins = net.ports(net.node(src))[1], net.ports(net.node(nid))[0]
            if outs and ins:
                net.connect(src, outs[0], nid, ins[0])
        ids.append(nid)
    project.metadata = {"note": draw(st.text(max_size=20))}
    return project


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(projects())
def test_random_projects_survive_save_and_load(project):
    text = io.dumps(project)
    again = io.loads(text)
    again.check()
    assert io.to_dict(again) == io.to_dict(project)
    assert json.loads(io.dumps(again)) == json.loads(text)


def test_a_block_using_a_block_defined_after_it_loads():
    project = Project("p")
    outer, inner = project.add_block("A"), project.add_block("B")  # A is made first, then comes to use B
    for block, middle in ((inner, ("Linear", {"out_features": 4})), (outer, ("Block", {"block": "B"}))):
        net = block.network
        x, mid, y = net.add_node("Input", "x", {"shape": [4]}), net.add_node(middle[0], "mid", middle[1]), net.add_node("Output", "y")
        net.connect(x, "out", mid, "x" if middle[0] == "Block" else "in")
        net.connect(mid, "y" if middle[0] == "Block" else "out", y, "in")
    main = project.add_network("main")
    x, a, y = main.add_node("Input", "x", {"shape": [4]}), main.add_node("Block", "a", {"block": "A"}), \
        main.add_node("Output", "out")
    main.connect(x, "out", a, "x")
    main.connect(a, "y", y, "in")
    again = io.loads(io.dumps(project))
    again.check()
    assert io.dumps(again) == io.dumps(project)
