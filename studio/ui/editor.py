"""`Editor`: one open project being edited: its undo stack, analysis, and the network on show.

Every user edit goes through `Editor.edit(text, action)`, which runs `action`
(a function calling model primitives) inside a `RecordedCommand` and pushes it
on the `QUndoStack`; an edit that changes nothing leaves no command, one the
model refuses (GraphError) leaves none either, reports why in `message` and
says so in the `Outcome` it returns. After every change, undo or redo the current network is analysed
again (one `Analyzer` per project, incremental) and `analysed` is sent; so it
is after a change of the training or data settings. `run_problems` then holds
what a run would meet beyond that analysis (`studio.train.preflight`).

The editor shows one network at a time: a top-level network, or a block
opened from a Block node (`open_block`), with `levels` naming the way down for
the breadcrumb. Inside a block, shapes come from the analysis of the Block
node that was opened (its first repetition), so they are the real ones.

Signals:
    analysed(object)      the current network's Report (None when unknown)
    scene_changed()       another network is on show (`scene` is new)
    message(str)          a line for the status bar
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QPointF, QTimer, Signal, Slot
from PySide6.QtGui import QUndoStack

from studio import catalog
from studio.catalog import BLOCK_TYPE
from studio.errors import StudioError
from studio.export.symbolic import length_symbols
from studio.graph import Analyzer, Edge, Network, Problem, Project, Report
from studio.graph.blocks import collapse
from studio.graph.fixes import Fix, fixes_for
from studio.ui import block_edits, clipboard, flow
from studio.graph.layout import FLOW_KEY, flow_of, layered
from studio.graph.wiring import detach, insert_on_wire, splice, wire
from studio.train.preflight import training_problems
from studio.ui.commands import RecordedCommand
from studio.ui.scene import NetworkScene

GRID = 20.0
SYMBOLS_DELAY_MS = 250  # after the last edit, the wires name the free sequence length (T)


@dataclass(frozen=True)
class Outcome:
    """What `Editor.edit` did: `result` is what the edit returned; `error` says why it was refused (else None)."""

    result: Any = None
    error: str | None = None


class Editor(QObject):
    """The editing state of one project (see the module docstring)."""

    analysed = Signal(object)
    scene_changed = Signal()
    message = Signal(str)

    def __init__(self, project: Project, parent=None):
        super().__init__(parent)
        self.project = project
        self.analyzer = Analyzer(project)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.indexChanged.connect(self._after_change)
        self.report: Report | None = None
        self.root_report: Report | None = None
        self.run_problems: list[Problem] = []  # at the training size, the Output against the task, the loss
        project.setting_changed.connect(self._settings_changed)
        # Levels: [("net", name, None), ("block", block name, Block node id in the level above), ...]
        self.levels: list[tuple[str, str, str | None]] = [("net", project.network().name, None)]
        self.scene: NetworkScene = self._make_scene()
        self._symbols_timer = QTimer(self, singleShot=True, interval=SYMBOLS_DELAY_MS)
        self._symbols_timer.timeout.connect(self._name_symbols)
        self.refresh()

    # --- what is on show ----------------------------------------------------
    @property
    def network(self) -> Network:
        """The network on show."""
        kind, name, _ = self.levels[-1]
        return self.project.networks[name] if kind == "net" else self.project.blocks[name].network

    def _make_scene(self) -> NetworkScene:
        flow.use(flow_of(self.project))  # ports and wires follow the project's direction of flow
        scene = NetworkScene(self.network, self)
        scene.connect_requested.connect(self.connect_edge)
        scene.reconnect_requested.connect(self.reconnect)
        scene.disconnect_requested.connect(self.disconnect_edge)
        scene.move_requested.connect(self.move_nodes)
        scene.splice_requested.connect(self.splice_node)
        scene.open_block_requested.connect(self.open_block)
        scene.status_message.connect(self.message)
        return scene

    def _show(self, levels) -> None:
        self.levels = levels
        old = self.scene
        old.detach()
        self.scene = self._make_scene()
        self.refresh()
        self.scene_changed.emit()
        old.deleteLater()

    @Slot(str)
    def open_block(self, node_id: str) -> None:
        """Shows the definition of the block that node `node_id` (on show) instantiates."""
        node = self.network.nodes.get(node_id)
        if node is None or node.type != BLOCK_TYPE:
            return
        self._show(self.levels + [("block", node.params["block"], node_id)])

    def show_levels(self, levels) -> None:
        """Shows the network at the end of `levels` (as `levels` holds them), e.g. a node found in a block."""
        if list(levels) != self.levels:
            self._show(list(levels))

    def go_to_level(self, index: int) -> None:
        """Goes back up the breadcrumb to level `index` (0 is the top network)."""
        if 0 <= index < len(self.levels) - 1:
            self._show(self.levels[:index + 1])

    def switch_network(self, name: str) -> None:
        """Shows the top-level network `name`."""
        self._show([("net", name, None)])

    def in_block(self) -> bool:
        """True when a block definition is on show."""
        return len(self.levels) > 1

    # --- analysis -------------------------------------------------------------
    @Slot()
    def _after_change(self, *_) -> None:
        # An undo may remove the block on show: fall back to the deepest level that still exists.
        valid = 1
        for kind, name, via in self.levels[1:]:
            if name not in self.project.blocks:
                break
            valid += 1
        if valid < len(self.levels):
            self._show(self.levels[:valid])
            return
        self.refresh()

    def _settings_changed(self, section: str, key: str = "", *_) -> None:
        if section in ("training", "data"):  # the loss or the training size may bring problems or clear them
            self.refresh()
        elif section == "metadata" and key == FLOW_KEY:  # ports move to other sides: draw the cards again
            self._show(self.levels)

    def refresh(self) -> None:
        """Analyses again (only what changed) and shows the result."""
        try:
            self.root_report = self.analyzer.analyse(self.levels[0][1])
            self.run_problems = training_problems(self.project, self.analyzer)
        except StudioError as e:
            self.root_report, self.run_problems = None, []
            self.message.emit(str(e))
        self.report = self._level_report()
        self.scene.apply_report(self.report)
        self.scene.show_groups([(f"block {g.node.params['block']} '{g.node.name}', expanded", g.node_ids)
                                for g in block_edits.expanded_groups(self)])
        self.analysed.emit(self.report)
        self._symbols_timer.start()

    @Slot()
    def _name_symbols(self) -> None:
        # Which sizes follow a free sequence length takes a few analyses of a copy (0.1-0.5 s on a
        # transformer): done once the edits pause, and only for a top-level network.
        symbols = {}
        if not self.in_block():
            try:
                symbols = length_symbols(self.project, self.levels[0][1])
            except StudioError:
                pass
        self.scene.set_symbols(symbols)

    def _level_report(self) -> Report | None:
        report = self.root_report
        for _, _, via in self.levels[1:]:
            res = report.nodes.get(via) if report else None
            report = res.inner[0] if res is not None and res.inner else None
        return report

    def fixes(self, level: int, problem: Problem) -> list[Fix]:
        """The one-click fixes for a problem at breadcrumb `level` (0: the top network, else the block on show)."""
        top = level == 0 or len(self.levels) == 1
        net = self.project.networks.get(self.levels[0][1]) if top else self.network
        return fixes_for(self.project, net, self.root_report if top else self.report, problem) if net else []

    def apply_fix(self, fix: Fix) -> str | None:
        """Applies a fix as one undoable edit; the reason when refused, else None."""
        return self.edit(f"fix: {fix.text}", fix.apply).error

    # --- edits ------------------------------------------------------------------
    def edit(self, text: str, action, merge_key=None) -> "Outcome":
        """Runs `action` as one undoable edit; what it returned, or why the model refused it.

        Consecutive edits with the same `merge_key` (digits typed into one field) become one undo step.
        """
        cmd = RecordedCommand(self.project, text, action, merge_key)
        try:
            cmd.run()
        except (StudioError, ValueError, KeyError) as e:
            self.message.emit(f"{text}: {e}")
            return Outcome(error=str(e))
        if cmd.events:
            self.undo_stack.push(cmd)  # indexChanged -> refresh
        return Outcome(result=cmd.result)

    def add_node(self, type_name: str, pos: QPointF | tuple = (0.0, 0.0), on_wire: Edge | None = None) -> str | None:
        """Adds a layer of `type_name` at `pos` (or spliced into the wire `on_wire`) and selects it."""
        x, y = (pos.x(), pos.y()) if isinstance(pos, QPointF) else pos
        net = self.network
        if on_wire is not None:
            nid = self.edit(f"insert {type_name} on {self._wire_text(on_wire)}",
                            lambda: insert_on_wire(net, on_wire, type_name)).result
        else:
            nid = self.edit(f"add {type_name}", lambda: net.add_node(type_name, pos=(_snap(x), _snap(y)))).result
        if nid:
            self.scene.select_nodes([nid])
        return nid

    def add_block_node(self, block: str, pos=(0.0, 0.0), on_wire: Edge | None = None) -> str | None:
        """Adds a node that instantiates block `block` (spliced into `on_wire` when given)."""
        net = self.network
        params = {"block": block, "repeat": 1}
        if on_wire is not None:
            return self.edit(f"insert block {block} on {self._wire_text(on_wire)}", lambda: insert_on_wire(
                net, on_wire, BLOCK_TYPE, params, net.unique_name(block))).result
        return self.edit(f"add block {block}", lambda: net.add_node(
            BLOCK_TYPE, net.unique_name(block), params, pos)).result

    def wire_at(self, pos: QPointF) -> Edge | None:
        """The wire under scene position `pos` (a layer dropped there is spliced into it), or None."""
        return self.scene.wire_at(pos)

    def _wire_text(self, edge: Edge) -> str:
        nodes = self.network.nodes
        return f"{nodes[edge.src].name} → {nodes[edge.dst].name}"

    @Slot(object)
    def connect_edge(self, edge: Edge) -> None:
        """Wires an output to an input; the wire that fed a taken input goes (one undo step)."""
        net = self.network
        taken = edge.dst_port in net.incoming(edge.dst)
        text = f"replace wire into {net.nodes[edge.dst].name}" if taken else f"connect {self._wire_text(edge)}"
        self.edit(text, lambda: wire(net, edge))

    @Slot(object, object)
    def reconnect(self, old: Edge, new: Edge) -> None:
        """Moves a wire's input end to another input."""
        net = self.network

        def action():
            net.disconnect(old)
            wire(net, new)
        self.edit("reconnect", action)

    @Slot(object)
    def disconnect_edge(self, edge: Edge) -> None:
        """Removes one wire."""
        net = self.network
        self.edit("disconnect", lambda: net.disconnect(edge))

    @Slot(dict)
    def move_nodes(self, positions: dict) -> None:
        """Moves nodes (one undo step for a whole drag)."""
        net = self.network

        def action():
            for nid, pos in positions.items():
                net.move(nid, pos)
        n = len(positions)
        self.edit(f"move {net.nodes[next(iter(positions))].name}" if n == 1 else f"move {n} nodes", action)

    @Slot(str, object, dict, bool)
    def splice_node(self, node_id: str, edge: Edge, positions: dict, detached: bool = False) -> str | None:
        """Moves a node dragged onto the wire `edge` and splices it in, first taking it out of
        its wires when `detached` (one undo step); the reason when refused, else None."""
        net = self.network
        text = f"insert {net.nodes[node_id].name} on {self._wire_text(edge)}"

        def action():
            for nid, pos in positions.items():
                net.move(nid, pos)
            if detached:
                detach(net, node_id)
            splice(net, edge, node_id)
        error = self.edit(text, action).error
        if error and positions:  # the splice was refused (message sent): the drag is still a move
            self.move_nodes(positions)
        return error

    def delete(self, node_ids, edges=()) -> None:
        """Deletes nodes (with their wires) and wires, as one edit."""
        net = self.network
        node_ids = [i for i in node_ids if i in net.nodes]

        def action():
            for e in edges:
                if e in net.edges and e.src not in node_ids and e.dst not in node_ids:
                    net.disconnect(e)
            for nid in node_ids:
                net.remove_node(nid)
        what = net.nodes[node_ids[0]].name if len(node_ids) == 1 else f"{len(node_ids)} nodes"
        self.edit(f"delete {what}" if node_ids else "delete wire", action)

    def delete_selection(self) -> None:
        """Deletes what is selected on the canvas."""
        self.delete(self.scene.selected_node_ids(), self.scene.selected_edges())

    def set_params(self, node_id: str, changes: dict, merge_key=None) -> str | None:
        """Sets parameters of a node; the reason when refused, else None."""
        net = self.network
        keys = ", ".join(changes)
        return self.edit(f"set {net.nodes[node_id].name}.{keys}", lambda: net.set_params(node_id, changes),
                         merge_key).error

    def rename(self, node_id: str, name: str) -> str | None:
        """Renames a node; the reason when refused, else None."""
        net = self.network
        old = net.nodes[node_id].name
        return self.edit(f"rename {old} → {name}", lambda: net.rename(node_id, name)).error

    def set_setting(self, section: str, key: str, value, merge_key=None) -> bool:
        """Sets one key of a settings section (None removes it) as an undoable edit; False if nothing changed."""
        if getattr(self.project, section).get(key) == value:
            return False
        what = f"{'clear' if value is None else 'set'} {'' if section == 'training' else section + ' '}{key}"
        return self.edit(what, lambda: self.project.set_setting(section, key, value),
                         merge_key).error is None

    def set_frozen(self, node_ids: list[str], frozen: bool) -> None:
        """Freezes or unfreezes nodes of the top-level network on show, as one edit."""
        net = self.network
        what = net.nodes[node_ids[0]].name if len(node_ids) == 1 else f"{len(node_ids)} nodes"
        self.edit(f"{'freeze' if frozen else 'unfreeze'} {what}",
                  lambda: [self.project.set_frozen(net.name, nid, frozen) for nid in node_ids])

    def paste(self, data: dict, offset=(40.0, 40.0)) -> list[str]:
        """Pastes clipboard data; selects and returns the new nodes."""
        net = self.network
        ids = self.edit(f"paste {len(data.get('nodes', []))} nodes", lambda: clipboard.paste(net, data, offset)).result or []
        self.scene.select_nodes(ids)
        return ids

    def duplicate(self) -> list[str]:
        """Copies the selection beside itself."""
        ids = self.scene.selected_node_ids()
        return self.paste(clipboard.copy_data(self.network, ids)) if ids else []

    def collapse(self, name: str) -> str | None:
        """Replaces the selected nodes by a new block `name`."""
        ids = self.scene.selected_node_ids()
        net = self.network
        nid = self.edit(f"collapse into block {name}", lambda: collapse(self.project, net, ids, name)).result
        if nid:
            self.scene.select_nodes([nid])
        return nid

    def auto_layout(self, direction: str | None = None) -> None:
        """Lays the network out in layers (one undo step); `direction` ("down", "right") also sets the project's."""
        net, project = self.network, self.project
        direction = direction or flow_of(project)
        positions = layered(net, direction)

        def action():
            if direction != flow_of(project):
                project.set_setting("metadata", FLOW_KEY, direction)
            for i, p in positions.items():
                net.move(i, p)
        self.edit("auto-layout", action)

    def align_to_grid(self) -> None:
        """Snaps the selected nodes (or all) to the grid."""
        net = self.network
        ids = self.scene.selected_node_ids() or list(net.nodes)
        self.edit("align to grid", lambda: [net.move(i, (_snap(net.nodes[i].pos[0]), _snap(net.nodes[i].pos[1])))
                                            for i in ids])


def _snap(v: float) -> float:
    return round(v / GRID) * GRID


def layer_types() -> list[str]:
    """Every type the palette offers."""
    return list(catalog.REGISTRY)
