"""`studio evaluate FILE --weights CKPT [...]`: test figures of trained weights, and of their ensemble.

    --weights CKPT        trained weights of FILE (repeat for an ensemble of runs)
    --member FILE CKPT    a member from another project of the same task (repeatable)
    --data SRC            data source (sets data.source)
    --split test|val      the split to evaluate (default: test when the data has one)
    --vote                an ensemble votes instead of averaging probabilities
    --save-ensemble OUT   also write the ensemble as a project (OUT.json) with its weights (OUT.pt);
                          with --vote, a graph that votes
    --json                print every figure as JSON: accuracy, macro_f1, roc_auc, per_class,
                          confusion_matrix, curves; with several members also members and ensemble
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable

from studio.graph import Project
from studio.train.checkpoint import jsonable
from studio.train.evaluate import SPLITS, Member, evaluate


def add_evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `studio evaluate` (the FILE argument is the caller's)."""
    parser.add_argument("--weights", action="append", default=[], metavar="CKPT",
                        help="trained weights (final.pt, best.pt, a checkpoint); repeat for an ensemble")
    parser.add_argument("--member", action="append", nargs=2, default=[], metavar=("FILE", "CKPT"),
                        help="an ensemble member from another project of the same task")
    parser.add_argument("--data", metavar="SRC", help="data source (sets data.source)")
    parser.add_argument("--split", choices=SPLITS, help="split to evaluate (default: test when there is one)")
    parser.add_argument("--vote", action="store_true", help="an ensemble votes instead of averaging probabilities")
    parser.add_argument("--save-ensemble", metavar="OUT.json",
                        help="write the ensemble as a project with its weights beside it (OUT.pt)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")


def run_evaluate(args: argparse.Namespace, load: Callable[[str], Project], path: Callable[[str], Path]) -> int:
    """Evaluates, prints the figures (and writes the ensemble when asked); the exit code."""
    members = [Member(load(args.file), w, path(args.file).parent) for w in args.weights]
    members += [Member(load(f), w, path(f).parent) for f, w in args.member]
    data = None
    if args.data is not None:
        data = {**(members[0].project.data if members else {}), "source": args.data}
    result = evaluate(members, data, args.split, "vote" if args.vote else "mean")
    if args.save_ensemble:
        from studio.train.ensemble import build_ensemble, member_record, save_ensemble

        project, weights = build_ensemble(members, Path(args.save_ensemble).stem, "vote" if args.vote else "mean")
        records = [member_record(path(f), w) for f, w in [(args.file, w) for w in args.weights] + args.member]
        weights_path = save_ensemble(project, weights, args.save_ensemble, records)
        print(f"wrote {args.save_ensemble} and {weights_path} "
              f"(studio export {args.save_ensemble} --weights {weights_path} ...)", file=sys.stderr)
    if args.json:
        print(json.dumps(jsonable(result), indent=1))
    else:
        print("\n".join(report_lines(result)))
    return 0


def report_lines(result: dict[str, Any]) -> list[str]:
    """The figures as a few lines of text: the headline, a per-class table, the confusion matrix, members."""
    lines = [f"{result['split']} split, {result['samples']} samples"]
    if result.get("task") != "classification":
        return lines + [f"{k}: {_num(v)}" for k, v in result.items() if isinstance(v, (int, float))
                        and not isinstance(v, bool) and k != "samples"]
    lines.append(f"accuracy {_num(result['accuracy'])}   macro F1 {_num(result['macro_f1'])}   "
                 f"ROC AUC (one-vs-rest, macro) {_num(result['roc_auc'])}")
    width = max(5, *(len(c["name"]) for c in result["per_class"]))
    lines.append(f"{'class':<{width}}  precision  recall      f1  support      AUC")
    for c in result["per_class"]:
        lines.append(f"{c['name']:<{width}}  {_num(c['precision']):>9}  {_num(c['recall']):>6}  {_num(c['f1']):>6}"
                     f"  {c['support']:>7}  {_num(c['roc_auc']):>7}")
    lines.append("confusion matrix (rows: true class, columns: predicted):")
    lines += ["  " + " ".join(f"{n:>4}" for n in row) for row in result["confusion_matrix"]]
    for i, m in enumerate(result.get("members", [])):
        lines.append(f"member {i + 1} ({m['weights']}): accuracy {_num(m['accuracy'])}, "
                     f"macro F1 {_num(m['macro_f1'])}, AUC {_num(m['roc_auc'])}")
    if "ensemble" in result:
        lines.append(f"ensemble ({result['ensemble']['method']} of {len(result['members'])}): "
                     f"accuracy {_num(result['accuracy'])}, macro F1 {_num(result['macro_f1'])}")
    return lines


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)
