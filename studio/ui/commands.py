"""Undo: one `RecordedCommand` per user edit, built by recording the model's own events.

A user edit is a function that calls `Network` / `Project` primitives (add a
node, connect, set params, collapse into a block ...). `RecordedCommand` runs
it once while listening to every network of the project and to the project's
block events; each event carries plain old and new values, so each is
invertible:

    node_added(id)            <->  remove_node(id)
    node_removed(copy)        <->  add_node(same id, name, params, pos)
    edge_added(edge)          <->  disconnect(edge)
    edge_removed(edge)        <->  connect(edge)
    params_changed(id,o,n)    <->  set params back to o
    node_renamed(id,o,n)      <->  rename back to o
    node_moved(id,o,n)        <->  move back to o
    block_added(name)         <->  remove_block(name)

Undo replays the inverses in reverse order; redo replays the events forward.
Paste, delete, collapse and auto-layout are therefore one command each and
complete by construction. Commands hold ids and plain values, never widgets,
and a network is named by (kind, name) so a block network recreated by redo is
found again.
"""

from __future__ import annotations

import copy
from typing import Callable

from PySide6.QtGui import QUndoCommand

from studio.graph import Edge, Network, Project
from studio.graph.io import network_to_dict

NetKey = tuple[str, str]  # ("net", name) or ("block", name)


def network_key(project: Project, net: Network) -> NetKey:
    """How a command names `net` so it can find it again after undo/redo."""
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
    """Collects (network key, event, args) while a project is being changed."""

    def __init__(self, project: Project):
        self.project = project
        self.events: list[tuple] = []
        self._connected: list[tuple] = []

    def __enter__(self) -> "Recorder":
        for net in self.project.all_networks():
            self._watch(net)
        self._hook(self.project.block_added, self._block_added)
        self._hook(self.project.block_removed, self._block_removed)
        return self

    def __exit__(self, *exc) -> None:
        for signal, slot in self._connected:
            signal.disconnect(slot)
        self._connected.clear()

    def _hook(self, signal, slot) -> None:
        signal.connect(slot)
        self._connected.append((signal, slot))

    def _watch(self, net: Network) -> None:
        key = network_key(self.project, net)

        def rec(kind):
            def slot(*args):
                if kind == "node_added":
                    node = net.nodes[args[0]]
                    args = (copy.deepcopy(node),)
                self.events.append((key, kind, args))
            return slot

        for kind in ("node_added", "node_removed", "edge_added", "edge_removed", "params_changed",
                     "node_renamed", "node_moved"):
            self._hook(getattr(net, kind), rec(kind))

    def _block_added(self, name: str) -> None:
        block = self.project.blocks[name]
        self.events.append((None, "block_added", (name, dict(block.params), block.doc)))
        self._watch(block.network)  # its nodes are added next, by the same operation

    def _block_removed(self, name: str) -> None:
        self.events.append((None, "block_removed", (name,)))


class RecordedCommand(QUndoCommand):
    """One user edit: runs `action` on first redo, then replays its recorded events.

    Attributes:
        events: what the action changed, in order; empty when it changed nothing
            (the editor then drops the command).
        result: what `action` returned on its first run.
    """

    def __init__(self, project: Project, text: str, action: Callable[[], object], merge_key=None):
        super().__init__(text)
        self.project = project
        self.merge_key = merge_key  # consecutive edits with the same key (typing a number) merge into one
        self.action = action
        self.events: list[tuple] = []
        self.result = None
        self._done_once = False
        self._skip_redo = False
        self._removed_blocks: dict[str, dict] = {}

    def run(self) -> None:
        """Runs the action once, recording its events; exceptions propagate after a rollback."""
        rec = Recorder(self.project)
        try:
            with rec:
                self.result = self.action()
        except Exception:
            self.events = rec.events
            self.undo()  # leave the model as it was
            self.events = []
            raise
        self.events = rec.events
        self._done_once = True
        self._skip_redo = True

    def redo(self) -> None:
        if self._skip_redo:  # QUndoStack.push calls redo; the edit was already made by run()
            self._skip_redo = False
            return
        if not self._done_once:
            self.run()
            return
        for key, kind, args in self.events:
            _apply(self.project, key, kind, args, forward=True, store=self._removed_blocks)

    def id(self) -> int:
        return 1 if self.merge_key is not None else -1

    def mergeWith(self, other) -> bool:
        if not isinstance(other, RecordedCommand) or other.merge_key != self.merge_key:
            return False
        self.events.extend(other.events)
        self.setText(other.text())
        return True

    def undo(self) -> None:
        for key, kind, args in reversed(self.events):
            _apply(self.project, key, kind, args, forward=False, store=self._removed_blocks)


def _apply(project: Project, key, kind: str, args: tuple, forward: bool, store: dict) -> None:
    """Replays one event (forward) or its inverse (backward) with the model's primitives."""
    if kind == "block_added":
        name, params, doc = args
        if forward:
            project.add_block(name, params, doc)
        else:
            project.remove_block(name)
        return
    if kind == "block_removed":
        name = args[0]
        if forward:
            store[name] = network_to_dict(project.blocks[name].network)
            project.remove_block(name)
        else:
            _restore_block(project, name, store.get(name))
        return
    net = resolve(project, key)
    if kind == "node_added":
        node = args[0]
        if forward:
            net.add_node(node.type, node.name, node.params, node.pos, id=node.id)
        else:
            net.remove_node(node.id)
    elif kind == "node_removed":
        node = args[0]
        if forward:
            net.remove_node(node.id)
        else:
            net.add_node(node.type, node.name, node.params, node.pos, id=node.id)
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


def _restore_block(project: Project, name: str, data: dict | None) -> None:
    block = project.add_block(name)
    if not data:
        return
    for n in data["nodes"]:
        block.network.add_node(n["type"], n["name"], n["params"], tuple(n["pos"]), id=n["id"])
    for src, sp, dst, dp in data["edges"]:
        block.network.connect(src, sp, dst, dp)
