"""Every metric a run reports, as one table: its name, kind, format and where it is shown.

A recipe's epoch metrics are a dict of name -> value. This table says, for
each name, what it is:

    kind      "scalar" (a number per epoch), "per_class" (a list, one value
              per class), "table" (a matrix: the confusion counts), or
              "picture" (sample predictions, generated images, attention
              maps: sent to the window with the epoch, but kept out of
              metrics.jsonl and checkpoints)
    label     how a line of text names it ("val loss")
    fmt       how a line of text writes its value
    summary   on the one line after each epoch (CLI) and the dock's summary
    shown     where the dock shows it: "curves" (the dashboard), "classes"
              (confusion and per-class tabs), "samples" (the samples tab),
              "task" (a task tab of `studio.ui.training.task_views`), or
              "none" (bookkeeping); a name the table does not know goes to
              the "Other metrics" tab

Test figures are the ``val_`` metrics with the prefix ``test_``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Metric:
    """One metric (see the module docstring for the fields)."""

    name: str
    kind: str = "scalar"
    label: str = ""
    fmt: str = "{:.4g}"
    summary: bool = False
    shown: str = "task"

    def text(self, value: Any) -> str:
        """``label value`` as one part of a line."""
        return f"{self.label or self.name.replace('_', ' ')} {self.fmt.format(value)}"


def _m(name: str, **kw) -> Metric:
    return Metric(name, **kw)


METRICS: dict[str, Metric] = {m.name: m for m in (
    _m("epoch", shown="none"),
    _m("train_loss", label="train loss", fmt="{:.4f}", summary=True, shown="curves"),
    _m("val_loss", label="val loss", fmt="{:.4f}", summary=True, shown="curves"),
    _m("val_accuracy", label="val accuracy", fmt="{:.1%}", summary=True, shown="curves"),
    _m("val_macro_f1", label="macro F1", fmt="{:.3f}", summary=True),
    _m("val_mae", label="MAE", summary=True, shown="curves"),
    _m("val_rmse", label="RMSE"),
    _m("val_r2", label="R²", fmt="{:.3f}", summary=True, shown="curves"),
    _m("val_perplexity", label="val perplexity", summary=True),
    _m("val_exact_match", label="val exact match", summary=True),
    _m("val_masked_accuracy", label="val masked accuracy", summary=True),
    _m("recon_error", label="reconstruction error", summary=True),
    _m("d_loss", label="D loss", summary=True),
    _m("g_loss", label="G loss", summary=True),
    _m("episode_return", label="episode return", summary=True),
    _m("val_return", label="val return", summary=True),
    _m("lr", label="learning rate", shown="curves"),
    _m("samples_per_s", label="samples/s", fmt="{:,.0f}", shown="curves"),
    _m("val_confusion", kind="table", shown="classes"),
    _m("val_precision", kind="per_class", shown="classes"),
    _m("val_recall", kind="per_class", shown="classes"),
    _m("val_f1", kind="per_class", shown="classes"),
    _m("samples", kind="picture", shown="samples"),
    _m("samples_images", kind="picture"),
    _m("samples_inputs", kind="picture"),
    _m("samples_xy", kind="picture"),
    _m("filters", kind="picture"),
    _m("attention_maps", kind="picture"),
    _m("attention", kind="picture"),
    _m("embedding_2d", kind="picture"),
)}

PICTURES = frozenset(name for name, m in METRICS.items() if m.kind == "picture")
# What the dock shows outside the task tabs (the curves, the class tabs, the samples) or never.
SHOWN_BY_DOCK = frozenset(name for name, m in METRICS.items() if m.shown in ("curves", "classes", "samples", "none"))


def without_pictures(metrics: dict[str, Any]) -> dict[str, Any]:
    """The metrics that go into metrics.jsonl and checkpoints (pictures left out)."""
    return {k: v for k, v in metrics.items() if k not in PICTURES}


def summary_line(metrics: dict[str, Any], prefix: str = "val_") -> str:
    """The main figures, "train loss 0.1234, val loss 0.2345, val accuracy 97.1%"; ``prefix="test_"`` for the test split."""
    parts = []
    for name, metric in METRICS.items():
        if not metric.summary:
            continue
        if prefix != "val_":
            if not name.startswith("val_"):
                continue
            name, metric = prefix + name[4:], Metric(prefix + name[4:], label=metric.label.removeprefix("val "),
                                                    fmt=metric.fmt)
        value = metrics.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            parts.append(metric.text(value))
    if not parts and prefix == "val_":  # no summary figure (a GAN without validation data): show what there is
        parts = [f"{k.replace('_', ' ')} {v:.4g}" for k, v in metrics.items()
                 if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "epoch"][:3]
    return ", ".join(parts)
