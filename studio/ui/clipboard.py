"""Copy and paste on the system clipboard: a subgraph (`studio.graph.subgraph`) as MIME data.

The data travels as MIME type `MIME` (and as plain JSON text).
"""

from __future__ import annotations

import json

from PySide6.QtCore import QMimeData

from studio.graph.subgraph import copy_data, paste

__all__ = ["MIME", "copy_data", "from_mime", "paste", "to_mime"]

MIME = "application/x-network-studio-nodes"


def to_mime(data: dict) -> QMimeData:
    """Clipboard contents for `data`."""
    mime = QMimeData()
    text = json.dumps(data)
    mime.setData(MIME, text.encode("utf-8"))
    mime.setText(text)
    return mime


def from_mime(mime: QMimeData | None) -> dict | None:
    """The subgraph on the clipboard, or None when it holds something else."""
    if mime is None:
        return None
    raw = bytes(mime.data(MIME)).decode("utf-8") if mime.hasFormat(MIME) else mime.text()
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) and data.get("studio-clipboard") == 1 else None
