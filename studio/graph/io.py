"""The project file: JSON with a `format` version, read strictly, written atomically.

Layout (format 1)::

    {"format": 1, "name": "...", "metadata": {...}, "data": {...}, "training": {...},
     "blocks": {NAME: {"params": {...}, "doc": "...", "network": NETWORK}},
     "networks": {NAME: NETWORK},
     "search": {TARGET: RANGE}}     optional: the search marks (`studio.graph.search`)
    NETWORK = {"nodes": [{"id", "type", "name", "params", "pos": [x, y]}, ...],
               "edges": [[src_id, src_port, dst_id, dst_port], ...]}

Reading refuses anything it cannot trust with a `ProjectFileError` that names
the file and the place (``line 3, column 5`` or ``networks.main.nodes[2].params``):
non-JSON or truncated text, a format newer than this app, an unknown layer
type, a bad parameter value, an edge to a missing port. Older formats are
migrated by the functions in `MIGRATIONS`. Saving writes a temporary file
beside the target and renames it, so a failed save leaves the old file intact.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

from studio.errors import ProjectFileError, StudioError
from studio.files import write_atomic
from studio.graph.frozen import FROZEN_KEY, frozen_names, layers_named
from studio.graph.network import Network
from studio.graph.project import Project
from studio.graph.search import is_target_text, target_from_text, target_text

FORMAT = 1
MAX_DEPTH = 64  # a project nests about 8 levels; deeper data would only exhaust the stack of code that walks it
# format N -> function turning a format-N dict into a format-(N+1) dict.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}


def network_to_dict(net: Network) -> dict:
    """A network as JSON-native data."""
    return {
        "nodes": [{"id": n.id, "type": n.type, "name": n.name, "params": n.params, "pos": list(n.pos)}
                  for n in net.nodes.values()],
        "edges": sorted([e.src, e.src_port, e.dst, e.dst_port] for e in net.edges),
    }


def to_dict(project: Project) -> dict:
    """The whole project as JSON-native data (the frozen layers by name in ``training.frozen``)."""
    frozen = frozen_names(project)
    marks = {target_text(project, t): spec for t, spec in project.search_marks().items()}
    return {
        "format": FORMAT,
        "name": project.name,
        "metadata": project.metadata,
        "data": project.data,
        "training": {**project.training, FROZEN_KEY: frozen} if frozen else project.training,
        "blocks": {b.name: {"params": b.params, "doc": b.doc, "network": network_to_dict(b.network)}
                   for b in project.blocks.values()},
        "networks": {name: network_to_dict(net) for name, net in project.networks.items()},
        **({"search": marks} if marks else {}),  # absent when empty: files without marks stay as they were
    }


def dumps(project: Project) -> str:
    """The project file's text."""
    return json.dumps(to_dict(project), indent=1, ensure_ascii=False) + "\n"


def save(project: Project, path: str | os.PathLike) -> None:
    """Writes the project atomically (`studio.files.write_atomic`); on failure the old file is left as it was."""
    # A lone surrogate (read from a "\\ud800" escape) has no UTF-8 form; written as that escape it reads back.
    write_atomic(path, dumps(project).encode("utf-8", "backslashreplace"), what="the project")


def _fill_order(blocks: dict) -> list[str]:
    """Block names, each after the blocks its nodes instantiate (in file order otherwise).

    A block whose definition comes later in the file (one made before the
    block it came to use) would otherwise have no ports yet when its
    instance's wires are read.
    """
    order: list[str] = []

    def visit(name, seen: set) -> None:
        if not isinstance(name, str) or name in order or name in seen or name not in blocks:
            return
        seen.add(name)
        network = blocks[name].get("network") if isinstance(blocks[name], dict) else None
        nodes = network.get("nodes") if isinstance(network, dict) else None
        for node in nodes if isinstance(nodes, list) else []:
            params = node.get("params") if isinstance(node, dict) else None
            if isinstance(params, dict) and node.get("type") == "Block":
                visit(params.get("block"), seen)
        order.append(name)

    for name in blocks:
        visit(name, set())
    return order


def load(path: str | os.PathLike) -> Project:
    """Reads a project file; ProjectFileError (exit code 2) if it cannot be trusted."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProjectFileError(path, "", "no such file") from None
    except UnicodeDecodeError:
        raise ProjectFileError(path, "", "not a text file (is it a project file?)") from None
    except OSError as e:
        raise ProjectFileError(path, "", f"cannot be read: {e.strerror or e}") from None
    return loads(text, path)


def loads(text: str, path: str | os.PathLike = "<text>") -> Project:
    """Parses project file text; `path` is only used in messages."""
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        what = "the file ends too early (truncated?)" if e.pos >= len(text.rstrip()) else f"not valid JSON: {e.msg}"
        raise ProjectFileError(path, f"line {e.lineno}, column {e.colno}", what) from None
    except RecursionError:
        raise ProjectFileError(path, "", f"nested too deeply (at most {MAX_DEPTH} levels)") from None
    except ValueError as e:  # a number of more than 4,300 digits, NaN or Infinity
        raise ProjectFileError(path, "", f"not a valid project file: {str(e).split(';')[0]}") from None
    depth = _depth(data)
    if depth > MAX_DEPTH:
        raise ProjectFileError(path, "", f"nested too deeply ({depth} levels; a project file has at most {MAX_DEPTH})")
    return from_dict(data, path)


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number a project file may hold")


def _depth(data) -> int:
    """How deeply lists and objects nest in `data` (walked without recursion)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return deepest


def from_dict(data: Any, path: str | os.PathLike = "<data>") -> Project:
    """Builds a Project from file data, checking every part."""
    data = _migrated(data, path)
    project = Project(_get(data, "name", str, path, "", default="untitled"))
    for section in ("metadata", "data", "training"):
        setattr(project, section, _get(data, section, dict, path, "", default={}))
    blocks = _get(data, "blocks", dict, path, "", default={})
    for name, block in blocks.items():
        where = f"blocks.{name}"
        _expect(block, dict, path, where)
        try:
            project.add_block(name, _get(block, "params", dict, path, where, default={}),
                              _get(block, "doc", str, path, where, default=""))
        except StudioError as e:
            raise ProjectFileError(path, where, str(e)) from None
    for name in _fill_order(blocks):  # a block's instances need the ports of the block they name
        _fill(project.blocks[name].network, blocks[name].get("network", {}), path, f"blocks.{name}.network")
    networks = _get(data, "networks", dict, path, "")
    if not networks:
        raise ProjectFileError(path, "networks", "the project has no network")
    for name, net in networks.items():
        _fill(project.add_network(name), net, path, f"networks.{name}")
    _read_frozen(project, path)
    _read_search(project, _get(data, "search", dict, path, "", default={}), path)
    return project


def _read_search(project: Project, marks: dict, path) -> None:
    """Sets the search marks: a bad range is refused, a mark on a layer that is gone is dropped (as frozen ones are)."""
    for text, spec in marks.items():
        if not is_target_text(text):
            raise ProjectFileError(path, f"search.{text}", "must be training.KEY, data.KEY or network/layer.param")
        try:
            target = target_from_text(project, text)
        except StudioError:
            continue  # its layer was renamed or deleted: nothing of it is left to search
        try:
            project.set_search(target, spec)
        except StudioError as e:
            raise ProjectFileError(path, f"search.{text}", str(e)) from None


def _read_frozen(project: Project, path) -> None:
    """Moves ``training.frozen`` (names) onto the nodes; an entry naming no layer any more is dropped."""
    training = dict(project.training)
    names = training.pop(FROZEN_KEY, [])
    project.training = training
    if not isinstance(names, list) or not all(isinstance(e, str) for e in names):
        raise ProjectFileError(path, f"training.{FROZEN_KEY}", "must be a list of layer names")
    for name in names:
        try:
            layers = layers_named(project, name)
        except StudioError:
            continue  # a layer renamed or deleted by an older version: nothing of it is left to freeze
        for network, node_id in layers:
            project.set_frozen(network, node_id, True)


def _migrated(data: Any, path) -> dict:
    _expect(data, dict, path, "")
    version = data.get("format")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ProjectFileError(path, "format", "missing or invalid format version: is this a Network Studio project?")
    if version > FORMAT:
        raise ProjectFileError(path, "format", f"written by a newer Network Studio (format {version}; "
                                               f"this version reads up to {FORMAT}): update the app to open it")
    while version < FORMAT:
        if version not in MIGRATIONS:
            raise ProjectFileError(path, "format", f"format {version} is too old to be read")
        data = MIGRATIONS[version](data)
        version += 1
    return data


def _fill(net: Network, data: Any, path, where: str) -> None:
    _expect(data, dict, path, where)
    for i, node in enumerate(_get(data, "nodes", list, path, where, default=[])):
        here = f"{where}.nodes[{i}]"
        _expect(node, dict, path, here)
        pos = node.get("pos", [0, 0])
        if not (isinstance(pos, list) and len(pos) == 2 and all(isinstance(v, (int, float)) for v in pos)):
            raise ProjectFileError(path, f"{here}.pos", "must be [x, y]")
        try:
            net.add_node(_get(node, "type", str, path, here), _get(node, "name", str, path, here),
                         _get(node, "params", dict, path, here, default={}), tuple(pos),
                         id=_get(node, "id", str, path, here))
        except StudioError as e:
            raise ProjectFileError(path, here, str(e)) from None
    for i, edge in enumerate(_get(data, "edges", list, path, where, default=[])):
        here = f"{where}.edges[{i}]"
        if not (isinstance(edge, list) and len(edge) == 4 and all(isinstance(v, str) for v in edge)):
            raise ProjectFileError(path, here, "an edge must be [source id, output port, target id, input port]")
        try:
            net.connect(*edge)
        except StudioError as e:
            raise ProjectFileError(path, here, str(e)) from None


def _get(data: dict, key: str, kind: type, path, where: str, **default):
    if key not in data:
        if "default" in default:
            return default["default"]
        raise ProjectFileError(path, where or key, f"missing '{key}'")
    value = data[key]
    _expect(value, kind, path, f"{where}.{key}" if where else key)
    return value


def _expect(value, kind: type, path, where: str) -> None:
    if not isinstance(value, kind):
        names = {dict: "an object", list: "a list", str: "a text", int: "a number"}
        raise ProjectFileError(path, where, f"must be {names.get(kind, kind.__name__)}, got {type(value).__name__}")
