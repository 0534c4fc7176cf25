"""Colours and fonts of the app: a light and a dark theme, and a colour per layer category.

`Theme` is plain data read by every painter (node and edge items, the start
page's cards). `apply(app, mode)` sets the Fusion style and a QPalette for
"light", "dark" or "system" (which follows `QStyleHints.colorScheme`), and
returns the `Theme` now in force; `current()` gives it to painters.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette


@dataclass(frozen=True)
class Theme:
    """The colours the editor paints with."""

    name: str
    canvas: QColor
    grid: QColor
    node: QColor
    node_border: QColor
    text: QColor
    subtext: QColor
    selection: QColor
    error: QColor
    error_fill: QColor
    blocked: QColor
    wire: QColor
    label_bg: QColor
    valid_target: QColor
    window: QColor
    base: QColor
    alt_base: QColor
    button: QColor
    highlight: QColor


LIGHT = Theme("light", QColor("#f4f5f7"), QColor("#e3e5ea"), QColor("#ffffff"), QColor("#b8bec9"),
              QColor("#1d2129"), QColor("#5f6775"), QColor("#2f7df6"), QColor("#d93025"), QColor("#fde8e6"),
              QColor("#9aa0aa"), QColor("#7d8593"), QColor("#ffffff"), QColor("#1e9e5a"),
              QColor("#eceef2"), QColor("#ffffff"), QColor("#f5f6f8"), QColor("#e6e8ec"), QColor("#2f7df6"))
DARK = Theme("dark", QColor("#1b1d22"), QColor("#25282f"), QColor("#2b2f37"), QColor("#454b57"),
             QColor("#e8eaee"), QColor("#a3aab6"), QColor("#5b9cff"), QColor("#ff6b5e"), QColor("#4a2624"),
             QColor("#6d7480"), QColor("#8c94a2"), QColor("#23262d"), QColor("#3ccf83"),
             QColor("#24272d"), QColor("#1e2025"), QColor("#272a31"), QColor("#31353d"), QColor("#3d7be0"))

# One colour per palette category, chosen to stay readable on both themes.
CATEGORY_COLOURS = {
    "Input/Output": "#6b7280", "Linear": "#2f7df6", "Convolution": "#8b5cf6", "Pooling": "#0ea5e9",
    "Normalization": "#14b8a6", "Dropout": "#a3a3a3", "Activation": "#f59e0b", "Shape": "#64748b",
    "Merge": "#ec4899", "Embedding": "#84cc16", "Recurrent": "#ef4444", "Attention": "#d946ef",
    "Resampling": "#06b6d4", "Block": "#10b981", "Custom code": "#b91c1c",
}

_current = LIGHT
_mode = "system"


def category_colour(category: str) -> QColor:
    """The stripe colour of a category (grey when unknown)."""
    return QColor(CATEGORY_COLOURS.get(category, "#94a3b8"))


def current() -> Theme:
    """The theme in force."""
    return _current


def mode() -> str:
    """"light", "dark" or "system"."""
    return _mode


def system_is_dark() -> bool:
    """True when the platform asks for a dark colour scheme."""
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


def apply(app, mode_: str = "system") -> Theme:
    """Sets the style and palette of `app` for `mode_` and returns the theme now in force."""
    global _current, _mode
    _mode = mode_
    dark = system_is_dark() if mode_ == "system" else mode_ == "dark"
    _current = DARK if dark else LIGHT
    app.setStyle("Fusion")
    app.setPalette(_palette(_current))
    return _current


def _palette(t: Theme) -> QPalette:
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: t.window, QPalette.ColorRole.WindowText: t.text,
        QPalette.ColorRole.Base: t.base, QPalette.ColorRole.AlternateBase: t.alt_base,
        QPalette.ColorRole.Text: t.text, QPalette.ColorRole.Button: t.button,
        QPalette.ColorRole.ButtonText: t.text, QPalette.ColorRole.Highlight: t.highlight,
        QPalette.ColorRole.HighlightedText: QColor("#ffffff"), QPalette.ColorRole.ToolTipBase: t.base,
        QPalette.ColorRole.ToolTipText: t.text, QPalette.ColorRole.PlaceholderText: t.subtext,
        QPalette.ColorRole.Link: t.selection, QPalette.ColorRole.Mid: t.node_border,
        QPalette.ColorRole.Light: t.base, QPalette.ColorRole.Dark: t.node_border,
    }
    for role, colour in roles.items():
        p.setColor(role, colour)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, t.subtext)
    return p
