"""The inspector: the selected node's name, parameters and results, editable.

Editors are generated from the node type's `Param`s (see `param_editors`);
inferred parameters are read-only and show the value analysis found. Each
change is sent to the `Editor` as it is typed; digits typed into one field
merge into one undo step (the field's editing session ends when it loses
focus or Enter is pressed). A Block node shows its block's arguments (which
may be `$expressions` inside another block) and its repeat count, and a button
to open it. Below the parameters: the output shapes, parameter count and
FLOPs (and "frozen" for a frozen layer, see `studio.ui.freeze`). Beside each
settable parameter, a ⚲ button marks it as searched by a sweep
(`studio.ui.search_marks`; inside a block, the block's layer, unless a block
argument sets it). After every
change the shown values are refreshed from the model with the widgets'
signals blocked, so undo updates the inspector and nothing echoes back.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QFormLayout, QLabel, QLineEdit, QPushButton, QScrollArea, QSpinBox, QVBoxLayout,
                               QWidget)

from studio import catalog
from studio.catalog import BLOCK_TYPE, Param, is_expression
from studio.graph import format_shape
from studio.graph.summary import si
from studio.ui import freeze, search_marks
from studio.ui.node_preview import NodePreviewSection
from studio.ui.param_editors import ParamEditor, TextEditor, editor_for


def _head(node, spec) -> QLabel:
    """The node's type (or block) in bold over its one-line description."""
    head = QLabel(f"<b>{node.type if spec else 'Block ' + node.params.get('block', '')}</b><br>"
                  f"<span>{spec.doc if spec else 'an instance of a block definition'}</span>")
    head.setWordWrap(True)
    head.setTextFormat(Qt.TextFormat.RichText)
    return head


class Inspector(QScrollArea):
    """Shows and edits the node selected on the editor's canvas."""

    def __init__(self, editor, parent=None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setMinimumWidth(250)
        self.editor = None
        self.node_id: str | None = None
        self.editors: dict[str, ParamEditor] = {}
        self.search_buttons: list[search_marks.SearchButton] = []
        self.name_edit: QLineEdit | None = None
        self.repeat: QSpinBox | None = None
        self.problem: QLabel | None = None
        self.results: QLabel | None = None
        self.preview = NodePreviewSection()  # kept across selections: a running preview outlives the form
        self._session = 0
        self._body = QWidget()
        self.setWidget(self._body)
        self.set_editor(editor)

    def set_editor(self, editor) -> None:
        """Follows `editor` (its selection and its analysis)."""
        self.editor = editor
        editor.scene_changed.connect(self._scene_changed)
        editor.analysed.connect(self.refresh)
        self._scene_changed()

    def _scene_changed(self) -> None:
        self.editor.scene.selectionChanged.connect(self.show_selection)
        self.show_selection()

    # --- building --------------------------------------------------------------------
    def show_selection(self) -> None:
        """Rebuilds the form for the selected node (or a hint when none or several)."""
        ids = self.editor.scene.selected_node_ids()
        node_id = ids[0] if len(ids) == 1 else None
        if node_id == self.node_id and node_id is not None and self.editors is not None:
            return
        self.node_id = node_id
        self._session += 1
        self._build(len(ids))

    def _build(self, n_selected: int) -> None:
        self.editors, self.name_edit, self.repeat, self.problem, self.results = {}, None, None, None, None
        self.search_buttons = []
        body = QWidget()
        outer = QVBoxLayout(body)
        outer.setContentsMargins(10, 10, 10, 10)
        outer.setSpacing(8)
        net = self.editor.network
        node = net.nodes.get(self.node_id) if self.node_id else None
        if node is None:
            hint = QLabel("Select a node to edit it." if n_selected == 0 else f"{n_selected} nodes selected.")
            hint.setEnabled(False)
            hint.setWordWrap(True)
            outer.addWidget(hint)
            outer.addStretch(1)
            self._swap(body)
            return
        spec = None if node.type == BLOCK_TYPE else catalog.get(node.type)
        outer.addWidget(_head(node, spec))
        outer.addLayout(self._form(node, spec))
        self._add_results(outer, node.id)
        outer.addStretch(1)
        self._swap(body)
        self.refresh()

    def _form(self, node, spec) -> QFormLayout:
        """The node's name and parameters (a Block node's repeat count and arguments), each editable."""
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.name_edit = QLineEdit(node.name)
        self.name_edit.editingFinished.connect(self._rename)
        form.addRow("name", self.name_edit)
        in_block = self.editor.in_block()
        if spec is not None:
            for p in spec.params:
                ed = editor_for(p, allow_expr=in_block, value=node.params.get(p.name))
                self._hook(ed, p.name)
                form.addRow(p.name, self._searchable(ed, p, p.inferred or is_expression(node.params.get(p.name))))
        else:
            self._block_rows(node, form)
        return form

    def _add_results(self, outer: QVBoxLayout, node_id: str) -> None:
        """Below the form: the node's problem (hidden when none), its results and its preview."""
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #d93025;")
        self.problem.hide()
        outer.addWidget(self.problem)
        self.results = QLabel()
        self.results.setWordWrap(True)
        self.results.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self.results)
        self.preview.follow(self.editor, node_id)
        outer.addWidget(self.preview)

    def _block_rows(self, node, form: QFormLayout) -> None:
        block = self.editor.project.blocks.get(node.params.get("block"))
        self.repeat = QSpinBox()
        self.repeat.setRange(1, 1000)
        self.repeat.valueChanged.connect(lambda v: self._commit("repeat", v))
        self.repeat.editingFinished.connect(self._new_session)
        form.addRow("repeat", self.repeat)
        for key, default in (block.params.items() if block else ()):
            kind = "int" if isinstance(default, int) and not isinstance(default, bool) else \
                "float" if isinstance(default, float) else "bool" if isinstance(default, bool) else "str"
            ed = TextEditor(Param(key, kind, default, f"block argument (default {default})"), allow_expr=True)
            self._hook(ed, key)
            form.addRow(key, self._searchable(ed, ed.param, is_expression(node.params.get(key))))
        if block is not None:
            button = QPushButton(f"Open block '{block.name}'")
            button.clicked.connect(lambda: self.editor.open_block(self.node_id))
            form.addRow("", button)

    def _hook(self, ed: ParamEditor, key: str) -> None:
        self.editors[key] = ed
        ed.committed.connect(lambda value, key=key: self._commit(key, value))
        for cls in (QLineEdit, QSpinBox):
            for child in ed.findChildren(cls):
                child.editingFinished.connect(self._new_session)

    def _searchable(self, ed: ParamEditor, param: Param, fixed: bool) -> QWidget:
        """The editor with a ⚲ button beside it (none for an inferred parameter or a block's `$argument`).

        Inside a block the mark is on the block's layer, so a sweep changes it in every use of the block;
        a parameter set from the block's arguments is searched by marking the argument on the Block node.
        """
        if fixed:
            return ed
        node_id, key, network = self.node_id, param.name, self.editor.network
        target = ("node", network.name, node_id, key)
        start = lambda: search_marks.suggestion(  # noqa: E731
            network.nodes[node_id].params.get(key, param.default), param.choices, param.min)
        button = search_marks.SearchButton(self.editor, target, key, start)
        self.search_buttons.append(button)
        return search_marks.with_button(ed, button)

    def _swap(self, body: QWidget) -> None:
        old = self.takeWidget()
        if self.preview.parent() is old and old is not None:
            self.preview.setParent(None)
        self.setWidget(body)
        self._body = body
        if old is not None:
            old.deleteLater()

    # --- edits ---------------------------------------------------------------------------
    def _new_session(self) -> None:
        self._session += 1

    def _commit(self, key: str, value) -> None:
        if self.node_id is None:
            return
        reason = self.editor.set_params(self.node_id, {key: value}, merge_key=(self.node_id, key, self._session))
        ed = self.editors.get(key)
        if ed is not None:
            ed.set_problem(reason)

    def _rename(self) -> None:
        if self.node_id is None or self.name_edit is None:
            return
        name = self.name_edit.text().strip()
        if name == self.editor.network.nodes[self.node_id].name:
            return
        reason = self.editor.rename(self.node_id, name)
        self.name_edit.setStyleSheet("border: 1.5px solid #d93025;" if reason else "")
        self.name_edit.setToolTip(reason or "")

    # --- following the model -------------------------------------------------------------
    def refresh(self, *_) -> None:
        """Shows the model's current values and the latest analysis."""
        net = self.editor.network
        node = net.nodes.get(self.node_id) if self.node_id else None
        if self.node_id is not None and node is None:  # deleted (or undone)
            self.node_id = None
            self._build(0)
            return
        if node is None or self.name_edit is None or self.results is None:
            return
        if not self.name_edit.hasFocus():
            self.name_edit.blockSignals(True)
            self.name_edit.setText(node.name)
            self.name_edit.blockSignals(False)
        report = self.editor.report
        res = report.nodes.get(node.id) if report else None
        if node.type == BLOCK_TYPE:
            if self.repeat is not None:
                self.repeat.blockSignals(True)
                self.repeat.setValue(int(node.params.get("repeat", 1)) if isinstance(node.params.get("repeat", 1), int) else 1)
                self.repeat.blockSignals(False)
            block = self.editor.project.blocks.get(node.params.get("block"))
            defaults = block.params if block else {}
            values = {k: node.params.get(k, defaults.get(k)) for k in self.editors}
        else:
            spec = catalog.get(node.type)
            values = spec.with_defaults(node.params)
            if res is not None:
                values.update(res.inferred)
        for key, ed in self.editors.items():
            ed.set_value(values.get(key))
        for button in self.search_buttons:
            button.sync()
        self._show_results(res)
        self.preview.request()

    def wait_for_jobs(self) -> None:
        """Blocks until a running preview has finished (before the inspector goes)."""
        self.preview.wait()

    def _show_results(self, res) -> None:
        if res is None:
            self.results.setText("")
            self.problem.hide()
            return
        if res.status == "error":
            self.problem.setText(res.message or "error")
            self.problem.show()
        else:
            self.problem.hide()
        lines = []
        for port, shape in res.outputs.items():
            lines.append(f"output {port}: <b>{format_shape(shape)}</b>" if len(res.outputs) > 1
                         else f"output: <b>{format_shape(shape)}</b>")
        if res.status == "blocked":
            lines.append("waiting for an input that has an error")
        lines.append(f"parameters: {res.params:,}")
        if res.params and self.node_id in freeze.frozen_ids(self.editor.project, self.editor.network):
            lines.append("<i>frozen: training leaves these weights alone</i>")
        lines.append(f"FLOPs per sample: {si(res.flops)}")
        self.results.setText("<br>".join(lines))

