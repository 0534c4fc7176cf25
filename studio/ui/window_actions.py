"""The main window's actions and menus, as tables.

`ACTIONS` gives each action its attribute name on the window (``act_<name>``),
its text, its slot (a function of the window), its shortcut and tooltip;
`MENUS` lists what each menu holds, by name (None: a separator). Every
action but those in `WITHOUT_PROJECT` needs an open project, so the window
turns them off on the start page. Undo and Redo come from the window's
`QUndoGroup` (`make_undo_actions`), the Train menu's from the training dock.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QUndoGroup

K = QKeySequence.StandardKey

ACTIONS = (
    # name, text, slot, shortcut, tooltip
    ("new", "&New", lambda w: w.new, K.New, ""),
    ("open", "&Open…", lambda w: w.open_dialog, K.Open, ""),
    ("save", "&Save", lambda w: w.save, K.Save, ""),
    ("save_as", "Save &As…", lambda w: w.save_as, "Ctrl+Shift+S", ""),
    ("close", "&Close project", lambda w: w.close_project, "Ctrl+W", ""),
    ("quit", "&Quit", lambda w: w.close, K.Quit, ""),
    ("cut", "Cu&t", lambda w: w.commands.cut, K.Cut, ""),
    ("copy", "&Copy", lambda w: w.commands.copy, K.Copy, ""),
    ("paste", "&Paste", lambda w: w.commands.paste, K.Paste, ""),
    ("duplicate", "&Duplicate", lambda w: w.commands.duplicate, "Ctrl+D", ""),
    ("delete", "De&lete", lambda w: w.commands.delete, None, ""),
    ("select_all", "Select &All", lambda w: w.commands.select_all, K.SelectAll, ""),
    ("rename", "&Rename", lambda w: w.commands.rename_selected, None, ""),
    ("collapse", "Collapse into &Block…", lambda w: w.commands.collapse, "Ctrl+G", ""),
    ("fit", "&Fit All", lambda w: w.commands.fit_all, "Ctrl+0", ""),
    ("zoom_in", "Zoom &In", lambda w: lambda: w.commands.zoom_by(1.25), K.ZoomIn, ""),
    ("zoom_out", "Zoom &Out", lambda w: lambda: w.commands.zoom_by(0.8), K.ZoomOut, ""),
    ("layout", "Auto-&Layout", lambda w: w.commands.auto_layout, "Ctrl+L", ""),
    ("grid", "Align to &Grid", lambda w: w.commands.align_to_grid, None, ""),
    ("flow_right", "Flow Left to &Right", lambda w: w.commands.flow_right, None,
     "Lay the network out left to right instead of top to bottom"),
    ("quick_add", "&Add Layer…", lambda w: w.commands.open_quick_add, None, "Tab on the canvas"),
    ("export", "&Export…", lambda w: w.files.open_export_dialog, "Ctrl+E", ""),
    ("import", "&Import PyTorch Module…", lambda w: w.files.open_import_dialog, None, ""),
    ("compress", "&Compress…", lambda w: w.open_compress_dialog, None,
     "Quantize to int8 or prune the trained network, measured before and after"),
    ("load_weights", "Load &Weights…", lambda w: w.files.load_weights_dialog, None, ""),
    ("freeze", "&Freeze / Unfreeze", lambda w: w.files.toggle_frozen, "Ctrl+Shift+F",
     "Frozen layers keep their weights during training"),
    ("find", "&Find Layer…", lambda w: w.blocks.open_finder, "Ctrl+F", ""),
    ("expand", "E&xpand / Collapse Block", lambda w: w.blocks.toggle_expanded, "Ctrl+Shift+E",
     "Show a block's layers in its place, or put the block back"),
    ("collapse_back", "Collapse Back into &Block", lambda w: w.blocks.collapse_back_selected, None, ""),
    ("ungroup", "&Ungroup Block", lambda w: w.blocks.ungroup_selected, "Ctrl+Shift+G", ""),
    ("flat", "Flat &View", lambda w: w.blocks.open_flat_view, "Ctrl+Shift+V",
     "The whole network with every block opened, read-only"),
)
CHECKABLE = {"flow_right"}
WITHOUT_PROJECT = {"new", "open", "quit", "import", "compress"}

MENUS = (
    ("&File", ("new", "open", "import", None, "save", "save_as", None, "load_weights", "export", None,
               "close", "quit")),
    ("&Edit", ("undo", "redo", None, "cut", "copy", "paste", "duplicate", "delete", None, "select_all", "rename",
               "find", None, "quick_add", "collapse", "expand", "collapse_back", "ungroup", None, "freeze")),
    ("&View", ("fit", "zoom_in", "zoom_out", None, "layout", "flow_right", "grid", None, "flat")),
)
THEMES = (("system", "Follow &System"), ("light", "&Light"), ("dark", "&Dark"))


def make_action(window, text: str, slot, shortcut=None) -> QAction:
    """An action of the window: its shortcut works anywhere in the window."""
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.triggered.connect(slot)
    window.addAction(action)
    return action


def make_actions(window) -> list[QAction]:
    """Sets ``window.act_<name>`` for every entry of `ACTIONS`; returns those that need a project."""
    needing_project = []
    for name, text, slot, shortcut, tip in ACTIONS:
        action = make_action(window, text, slot(window), shortcut)
        action.setCheckable(name in CHECKABLE)
        action.setToolTip(tip or action.toolTip())
        setattr(window, f"act_{name}", action)
        if name not in WITHOUT_PROJECT:
            needing_project.append(action)
    return needing_project


def make_undo_actions(window) -> QUndoGroup:
    """Undo and Redo for the window's life, following the open project's stack (``window.act_undo/redo``)."""
    group = QUndoGroup(window)
    window.act_undo = group.createUndoAction(window, "Undo")
    window.act_undo.setShortcut(K.Undo)
    window.act_redo = group.createRedoAction(window, "Redo")
    # The platform's Redo keys plus Ctrl+Shift+Z and Ctrl+Y, each once: a key twice on one action is
    # "ambiguous" to Qt and does nothing (X11's Redo is Ctrl+Shift+Z).
    redo_keys = QKeySequence.keyBindings(K.Redo) + [QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")]
    window.act_redo.setShortcuts(list({k.toString(): k for k in redo_keys}.values()))
    for action in (window.act_undo, window.act_redo):
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        window.addAction(action)
    return group


def make_theme_actions(window, current: str) -> dict[str, QAction]:
    """One checkable action per theme mode, `current` checked; they call ``window.set_theme``."""
    group = QActionGroup(window)
    actions = {}
    for mode, label in THEMES:
        action = QAction(label, window, checkable=True)
        action.triggered.connect(lambda _=False, mode=mode: window.set_theme(mode))
        group.addAction(action)
        actions[mode] = action
    actions[current].setChecked(True)
    return actions


def add_menu(bar, title: str, names) -> object:
    """A menu of the window's ``act_<name>`` actions (None: a separator)."""
    menu = bar.addMenu(title)
    window = bar.parent()
    for name in names:
        menu.addSeparator() if name is None else menu.addAction(getattr(window, f"act_{name}"))
    return menu
