"""`studio compress FILE --weights CKPT --method quantize|prune [--structured] [--amount A] -o OUT [--json]`.

Prints the figures before and after (size, parameters, FLOPs, accuracy,
latency at batch 1 and 32 on one thread) with their ratios, the files
written and notes; ``--json`` prints ``{"before": {...}, "after": {...},
"files": [...], "notes": [...], "summary": {...}}`` instead (the summary: the
per-layer tables before and after structured pruning).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from studio.compress.quantize import MODES
from studio.compress.run import METHODS, compress
from studio.graph.summary import si, summary_table
from studio.presets import is_preset, resolve

ROWS = (("size_bytes", "file size", lambda v: f"{v / 1024:,.1f} KiB"), ("params", "parameters", si),
        ("flops", "FLOPs per sample", si), ("accuracy", "accuracy", lambda v: f"{v:.2%}"),
        ("latency_ms", "latency, batch 1", lambda v: f"{v:.3f} ms"),
        ("latency32_ms", "latency, batch 32", lambda v: f"{v:.3f} ms"))


def change(key: str, before: float, after: float) -> str:
    """How a figure moved: accuracy in percentage points (a ratio of accuracies reads as no change), the rest
    as a ratio; "" when there is nothing to divide by."""
    if key == "accuracy":
        return f"{100 * (after - before):+.2f} pt"
    return f"{after / before:.2f}×" if before else ""


def add_compress_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds --weights, --method, --structured, --amount, --finetune-epochs, --quantize-mode, -o and --json."""
    parser.add_argument("--weights", required=True, metavar="CKPT", help="trained weights (final.pt, best.pt, ...)")
    parser.add_argument("--method", required=True, metavar="M", help=f"{' or '.join(METHODS)}")
    parser.add_argument("--structured", action="store_true",
                        help="prune whole channels and write a smaller project (with --method prune)")
    parser.add_argument("--amount", type=float, default=0.5, metavar="A",
                        help="fraction of weights (or channels) to remove, in (0, 1); default 0.5")
    parser.add_argument("--finetune-epochs", type=int, default=0, metavar="N",
                        help="epochs of fine-tuning after pruning, with the project's training settings")
    parser.add_argument("--quantize-mode", default="auto", metavar="MODE",
                        help=f"{', '.join(MODES)}: static (calibrated, int8 convolutions) or dynamic "
                        "(int8 Linear/LSTM, float convolutions); auto tries both on a network with "
                        "convolutions and keeps the faster")
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="int8 model (.onnx), pruned weights (.pt) or, structured, pruned project (.json)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")


def run_compress(args: argparse.Namespace) -> int:
    """Compresses as `args` say and prints the figures; returns 0 (failures raise StudioError)."""
    path = resolve(args.file)
    from studio.graph import io

    result = compress(io.load(path), args.weights, args.method, Path(args.output), args.amount, args.structured,
                      args.finetune_epochs, args.quantize_mode, root=path.parent, preset=is_preset(path))
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    for side, data in result.summary.items():
        print(f"{side}:\n{summary_table(data)}\n")
    before, after = result.before.to_dict(), result.after.to_dict()
    print(f"{'':<18} {'before':>14} {'after':>14}  change")
    for key, label, fmt in ROWS:
        if before[key] is not None and after[key] is not None:
            print(f"{label:<18} {fmt(before[key]):>14} {fmt(after[key]):>14}  {change(key, before[key], after[key])}")
    for f in result.files:
        print(f"wrote {f}")
    for note in result.notes:
        print(f"note: {note}")
    sys.stdout.flush()
    return 0
