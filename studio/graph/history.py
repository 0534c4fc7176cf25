"""Undo without Qt: a `Change` is one user edit, recorded from the document's own events.

A user edit is a function that calls `Network` / `Project` primitives (add a
node, connect, set params, collapse into a block, set a training setting,
freeze a layer ...). `Change.record` runs it once while listening to every
network of the project and to the project's own events; each event carries
plain old and new values, so each is invertible:

    node_added(id)              <->  remove_node(id)
    node_removed(copy, index)   <->  add_node(same id, name, params, pos, at index)
    edge_added(edge)            <->  disconnect(edge)
    edge_removed(edge)          <->  connect(edge)
    params_changed(id,o,n)      <->  set params back to o
    node_renamed(id,o,n)        <->  rename back to o
    node_moved(id,o,n)          <->  move back to o
    block_added(name)           <->  remove_block(name)
    block_params_changed(b,o,n) <->  set the block's parameters back to o
    setting_changed(s,k,o,n)    <->  set_setting(s, k, o)
    frozen_changed(net,id,o,n)  <->  set_frozen(net, id, o)
    search_changed(t,o,n)       <->  set_search(t, o)

`undo` replays the inverses in reverse order; `redo` replays the events
forward. Paste, delete, collapse, auto-layout and a settings edit are
therefore one change each and complete by construction. A change holds ids
and plain values; a network is named by (kind, name) so a block network
recreated by redo is found again. The Qt undo stack only wraps changes
(`studio.ui.commands`); see docs/architecture.md.
"""

from __future__ import annotations

import copy
from typing import Callable

from studio.graph.io import network_to_dict
from studio.graph.network import Edge, Network
from studio.graph.project import Project

NetKey = tuple[str, str]  # ("net", name) or ("block", name)
_NETWORK_EVENTS = ("node_added", "node_removed", "edge_added", "edge_removed", "params_changed",
                   "node_renamed", "node_moved")
_PROJECT_EVENTS = ("block_params_changed", "setting_changed", "frozen_changed", "search_changed")


def network_key(project: Project, net: Network) -> NetKey:
    """How a change names `net` so it can find it again after undo/redo."""
    if project.networks.get(net.name) is net:
        return ("net", net.name)
    for name, block in project.blocks.items():
        if block.network is net:
            return ("block", name)
    raise KeyError(f"network '{net.name}' is not part of the project")


def resolve(project: Project, key: NetKey) -> Network:
    """The network a `NetKey` names."""
    kind, name = key
    return project.networks[name] if kind == "net" else project.blocks[name].network


class Recorder:
    """Collects (network key or None, event, args) while a project is being changed."""

    def __init__(self, project: Project):
        self.project = project
        self.events: list[tuple] = []
        self._connected: list[tuple] = []

    def __enter__(self) -> "Recorder":
        for net in self.project.all_networks():
            self._watch(net)
        self._hook(self.project.block_added, self._block_added)
        self._hook(self.project.block_removed, self._block_removed)
        for kind in _PROJECT_EVENTS:
            self._hook(getattr(self.project, kind), self._project_slot(kind))
        return self

    def __exit__(self, *exc) -> None:
        for signal, slot in self._connected:
            signal.disconnect(slot)
        self._connected.clear()

    def _hook(self, signal, slot) -> None:
        signal.connect(slot)
        self._connected.append((signal, slot))

    def _project_slot(self, kind: str):
        def slot(*args):
            self.events.append((None, kind, copy.deepcopy(args)))
        return slot

    def _watch(self, net: Network) -> None:
        key = network_key(self.project, net)

        def rec(kind):
            def slot(*args):
                if kind == "node_added":
                    args = (copy.deepcopy(net.nodes[args[0]]),)
                self.events.append((key, kind, args))
            return slot

        for kind in _NETWORK_EVENTS:
            self._hook(getattr(net, kind), rec(kind))

    def _block_added(self, name: str) -> None:
        block = self.project.blocks[name]
        self.events.append((None, "block_added", (name, dict(block.params), block.doc)))
        self._watch(block.network)  # its nodes are added next, by the same operation

    def _block_removed(self, name: str) -> None:
        self.events.append((None, "block_removed", (name,)))


class Change:
    """One user edit of `project`: the events it sent, replayable backward and forward.

    Attributes:
        text: what the edit was ("set epochs", "delete conv1"), for the Edit menu.
        events: what the edit changed, in order; empty when it changed nothing.
    """

    def __init__(self, project: Project, text: str, events: list[tuple] | None = None):
        self.project = project
        self.text = text
        self.events: list[tuple] = list(events or [])
        self._removed_blocks: dict[str, dict] = {}

    @classmethod
    def record(cls, project: Project, text: str, action: Callable[[], object]) -> tuple["Change", object]:
        """Runs `action`, recording its events: (the change, what `action` returned).

        If `action` raises, what it had changed is undone and the exception propagates.
        """
        change = cls(project, text)
        rec = Recorder(project)
        try:
            with rec:
                result = action()
        except Exception:
            change.events = rec.events
            change.undo()  # leave the model as it was
            raise
        change.events = rec.events
        return change, result

    def undo(self) -> None:
        """Puts the project back as it was before the edit."""
        for key, kind, args in reversed(self.events):
            _apply(self.project, key, kind, args, forward=False, store=self._removed_blocks)

    def redo(self) -> None:
        """Makes the edit again (after `undo`)."""
        for key, kind, args in self.events:
            _apply(self.project, key, kind, args, forward=True, store=self._removed_blocks)

    def absorb(self, later: "Change") -> None:
        """Appends a later change's events, so both undo as one step (digits typed into one field)."""
        self.events.extend(later.events)
        self.text = later.text


def _apply(project: Project, key, kind: str, args: tuple, forward: bool, store: dict) -> None:
    """Replays one event (forward) or its inverse (backward) with the model's primitives."""
    if key is None:
        _apply_project(project, kind, args, forward, store)
        return
    net = resolve(project, key)
    if kind in ("node_added", "node_removed"):
        node, index = args[0], (args[1] if kind == "node_removed" else None)
        if forward == (kind == "node_added"):
            net.add_node(node.type, node.name, node.params, node.pos, id=node.id, index=index)
        else:
            net.remove_node(node.id)
    elif kind in ("edge_added", "edge_removed"):
        edge: Edge = args[0]
        if forward == (kind == "edge_added"):
            net.connect(edge.src, edge.src_port, edge.dst, edge.dst_port)
        else:
            net.disconnect(edge)
    elif kind == "params_changed":
        node_id, old, new = args
        target = new if forward else old
        current = net.node(node_id).params
        net.set_params(node_id, {**{k: None for k in current if k not in target}, **target})
    elif kind == "node_renamed":
        node_id, old, new = args
        net.rename(node_id, new if forward else old)
    elif kind == "node_moved":
        node_id, old, new = args
        net.move(node_id, new if forward else old)


def _apply_project(project: Project, kind: str, args: tuple, forward: bool, store: dict) -> None:
    if kind == "block_added":
        name, params, doc = args
        if forward:
            project.add_block(name, params, doc)
        else:
            project.remove_block(name)
    elif kind == "block_removed":
        name = args[0]
        if forward:
            store[name] = network_to_dict(project.blocks[name].network)
            project.remove_block(name)
        else:
            _restore_block(project, name, store.get(name))
    elif kind == "block_params_changed":
        name, old, new = args
        project.set_block_params(name, new if forward else old)
    elif kind == "setting_changed":
        section, key, old, new = args
        project.set_setting(section, key, new if forward else old)
    elif kind == "frozen_changed":
        network, node_id, old, new = args
        project.set_frozen(network, node_id, new if forward else old)
    elif kind == "search_changed":
        target, old, new = args
        project.set_search(target, new if forward else old)


def _restore_block(project: Project, name: str, data: dict | None) -> None:
    block = project.add_block(name)
    if not data:
        return
    for n in data["nodes"]:
        block.network.add_node(n["type"], n["name"], n["params"], tuple(n["pos"]), id=n["id"])
    for src, sp, dst, dp in data["edges"]:
        block.network.connect(src, sp, dst, dp)
