"""The `studio` command: the GUI, and every core feature from a terminal.

    studio [FILE]                      open the GUI (FILE: a project path or a preset name)
    studio presets                     list the presets
    studio check FILE                  one line per problem or warning; exit 0 clean, 1 problems, 2 unreadable
    studio summary FILE [--json]       per-layer table and totals
    studio code FILE [-o out.py]       standalone PyTorch source
    studio train FILE [options]        train, writing checkpoints and metrics.jsonl (studio train -h)
    studio export FILE --format F -o PATH   export and verify (torchscript, pt2, onnx, python, state_dict)
    studio import SPEC -o project.json      trace an nn.Module (module:Class or file.py:Class) into a project
    studio explain FILE --weights CKPT --method M --sample I -o PNG   where a classifier looked (Captum)
    studio compress FILE --weights CKPT --method quantize|prune -o OUT   int8 model or pruned network, measured
    studio sweep FILE --trials N [--jobs J] --out DIR   Optuna search over the marked parameters
    studio evaluate FILE --weights CKPT [--weights CKPT ...] [--json]   test figures, ensembles
    studio diff RUN_A RUN_B [--json]   what differs between two runs: settings and architecture

Errors are one or two plain lines on stderr and a non-zero exit; `--debug`
shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from studio import __version__, library_logs, trust
from studio.errors import StudioError
from studio.files import write_atomic
from studio.graph import io
from studio.graph.analysis import Analyzer
from studio.graph.code_nodes import require_trusted
from studio.graph.summary import summary_data, summary_table
from studio.presets import list_presets, resolve

COMMANDS = ("presets", "check", "summary", "code", "train", "export", "import", "explain", "compress", "sweep",
            "inspect", "lr-find", "evaluate", "diff")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `studio` console script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    if "--trust-code" in argv:  # any command: run the code a project's "Module" nodes name (studio/trust.py)
        trust.allow_all()
    argv = [a for a in argv if a not in ("--debug", "--trust-code")]
    if not debug:
        library_logs.quiet()
    try:
        if argv and argv[0] in COMMANDS:
            args = _parser(argv[0]).parse_args(argv)
            return args.run(args)
        return _gui(argv)
    except StudioError as e:
        if debug:
            raise
        print(f"studio: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("studio: interrupted", file=sys.stderr)
        return 130


def _parser(command: str) -> argparse.ArgumentParser:
    """The parser of every command; only `command`'s own module is imported (the trainer's takes ~0.15 s)."""
    parser = argparse.ArgumentParser(prog="studio", description="Network Studio: design, train and export PyTorch networks.")
    parser.add_argument("--version", action="version", version=f"studio {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("presets", help="list the presets")
    p.set_defaults(run=cmd_presets)
    p = sub.add_parser("check", help="validate a project; one line per problem")
    p.add_argument("file", help="project file or preset name")
    p.set_defaults(run=cmd_check)
    p = sub.add_parser("summary", help="per-layer table: output shape, parameters, FLOPs")
    p.add_argument("file", help="project file or preset name")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--profile", action="store_true",
                   help="also measure forward/backward time and activation memory per layer (a batch of 8)")
    p.set_defaults(run=cmd_summary)
    p = sub.add_parser("code", help="standalone PyTorch source of the project's networks")
    p.add_argument("file", help="project file or preset name")
    p.add_argument("-o", "--output", help="write to this file instead of standard output")
    p.set_defaults(run=cmd_code)
    _add_train(sub, command == "train")
    _add_export(sub, command)
    _add_explain(sub, command)
    _add_compress(sub, command)
    _add_sweep(sub, command)
    _add_insight(sub, command)
    _add_evaluate(sub, command)
    _add_diff(sub)
    return parser


def _add_compress(sub, command: str) -> None:
    p = sub.add_parser("compress", help="quantize to int8 or prune a trained network, measured before and after")
    if command != "compress":
        return
    from studio.compress import cli as compress_cli

    p.add_argument("file", help="project file or preset name")
    compress_cli.add_compress_arguments(p)
    p.set_defaults(run=compress_cli.run_compress)


def _add_sweep(sub, command: str) -> None:
    p = sub.add_parser("sweep", help="search the project's marked parameters with Optuna, a training run per trial")
    if command != "sweep":
        return
    sweep_cli = importlib.import_module("studio.train.sweep_cli")
    p.add_argument("file", help="project file or preset name")
    sweep_cli.add_sweep_arguments(p)
    p.set_defaults(run=lambda args: sweep_cli.run_from_args(load_project(args.file), args, resolve(args.file)))


def _add_insight(sub, command: str) -> None:
    """`studio inspect` and `studio lr-find` (studio/train/insight_cli.py); imported only when asked for."""
    inspect = sub.add_parser("inspect", help="a node's output on a few samples of the project's data")
    lr_find = sub.add_parser("lr-find", help="learning-rate range test: loss against lr, and a suggested lr")
    if command not in ("inspect", "lr-find"):
        return
    insight = importlib.import_module("studio.train.insight_cli")
    for p in (inspect, lr_find):
        p.add_argument("file", help="project file or preset name")
    insight.add_inspect_arguments(inspect)
    inspect.set_defaults(run=lambda args: insight.run_inspect(load_project(args.file), args, resolve(args.file)))
    insight.add_lr_find_arguments(lr_find)
    lr_find.set_defaults(run=lambda args: insight.run_lr_find(load_project(args.file), args, resolve(args.file)))


def _add_evaluate(sub, command: str) -> None:
    p = sub.add_parser("evaluate", help="test figures of trained weights (and of their ensemble)")
    if command != "evaluate":
        return
    from studio.train import evaluate_cli

    p.add_argument("file", help="project file or preset name")
    evaluate_cli.add_evaluate_arguments(p)
    p.set_defaults(run=lambda args: evaluate_cli.run_evaluate(args, load_project, resolve))


def _add_diff(sub) -> None:
    p = sub.add_parser("diff", help="what differs between two runs: settings, architecture, last figures")
    p.add_argument("run_a", help="a run folder (e.g. runs/lenet5-1)")
    p.add_argument("run_b", help="the run folder to compare it with")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(run=cmd_diff)


def cmd_diff(args) -> int:
    """Prints the two runs' settings side by side (``*`` marks a difference) and the architecture diff."""
    from studio.train.run_diff import compare_runs, diff_text

    diff = compare_runs(args.run_a, args.run_b)
    print(json.dumps(diff.to_dict(), indent=2) if args.json else diff_text(diff))
    return 0


def _add_export(sub, command: str) -> None:
    export = sub.add_parser("export", help="export to TorchScript, .pt2, ONNX, Python or a state_dict, verified")
    import_ = sub.add_parser("import", help="trace a PyTorch nn.Module into an editable project")
    if command not in ("export", "import"):
        return
    from studio.export import cli as export_cli

    export.add_argument("file", help="project file or preset name")
    export_cli.add_export_arguments(export)
    export.set_defaults(run=lambda args: export_cli.run_export(load_project(args.file), args))
    export_cli.add_import_arguments(import_)
    import_.set_defaults(run=export_cli.run_import)


def _add_train(sub, wanted: bool) -> None:
    p = sub.add_parser("train", help="train a project, writing checkpoints and metrics.jsonl")
    if not wanted:
        return
    train_cli = importlib.import_module("studio.train.cli")
    p.add_argument("file", help="project file or preset name")
    train_cli.add_train_arguments(p)
    p.set_defaults(run=lambda args: train_cli.run_from_args(load_project(args.file), args, resolve(args.file)))


def _add_explain(sub, command: str) -> None:
    p = sub.add_parser("explain", help="where a trained classifier looked on one validation image (Captum)")
    if command != "explain":
        return
    p.add_argument("file", help="project file or preset name")
    p.add_argument("--weights", required=True, metavar="CKPT", help="trained weights (final.pt, last.pt, ...)")
    p.add_argument("--method", required=True, choices=("gradcam", "saliency", "integrated_gradients"))
    p.add_argument("--node", metavar="NAME", help="the convolution node of Grad-CAM (default: the last one)")
    p.add_argument("--sample", required=True, type=int, metavar="I", help="index in the validation split")
    p.add_argument("-o", "--output", required=True, metavar="PNG", help="the picture to write")
    p.set_defaults(run=cmd_explain)


def cmd_explain(args) -> int:
    """Writes the explanation of one validation sample, overlaid on it, as a PNG."""
    from studio.train.explain import Explainer

    path = resolve(args.file)
    result = Explainer(io.load(path), args.weights, path.parent).explain(args.sample, args.method, args.node)
    write_atomic(args.output, lambda f: result.picture().save(f, format="PNG"), what="the explanation")
    where = f" at {result.node}" if result.node else ""
    print(f"wrote {args.output}: {args.method}{where}, sample {result.sample}, predicted {result.pred}, "
          f"true {result.true}")
    return 0


def load_project(file_or_name: str):
    """The project at a path, or the preset of that name; UntrustedCode if it runs code not trusted here."""
    project = io.load(resolve(file_or_name))
    require_trusted(project)
    return project


def cmd_presets(args) -> int:
    """Prints name, task and description of each preset."""
    presets = list_presets()
    width = max((len(p.name) for p in presets), default=4)
    for p in presets:
        print(f"{p.name:<{width}}  {p.task:<15} {p.description}")
    return 0


def cmd_check(args) -> int:
    """Prints one line per problem, warnings too (what a run would hit included); exit 1 when there is any."""
    from studio.train.preflight import project_problems

    project = load_project(args.file)
    problems = project_problems(project)
    for p in problems:
        print(p)
    if not problems:
        print(f"{project.name}: no problems")
    return 1 if problems else 0


def cmd_summary(args) -> int:
    """Prints the per-layer table and totals (or JSON)."""
    project = load_project(args.file)
    analyzer = Analyzer(project)
    reports = {name: analyzer.analyse(name) for name in project.networks}
    data = summary_data(project, reports)
    extra = ()
    if args.profile and not any(r.problems for r in reports.values()):
        profile = importlib.import_module("studio.train.layer_profile")
        profile.add_profile(data, project)
        extra = tuple((header, key, profile.cell) for header, key in profile.COLUMNS)
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(summary_table(data, extra))
    problems = [p for r in reports.values() for p in r.problems]
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


def cmd_code(args) -> int:
    """Writes standalone source of the project's networks."""
    from studio.compile import project_source

    source = project_source(load_project(args.file))
    if args.output:
        write_atomic(args.output, source, what="the generated code")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(source)
    return 0


def _gui(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="studio", description="Network Studio: design, train and export PyTorch networks. "
                                     f"Commands: {', '.join(COMMANDS)} (studio COMMAND -h).")
    parser.add_argument("file", nargs="?", help="project file or preset name to open")
    parser.add_argument("--version", action="version", version=f"studio {__version__}")
    args = parser.parse_args(argv)
    path = resolve(args.file) if args.file else None
    if path is not None:
        io.load(path)  # a bad file is reported here, in plain words, before any window opens
    # Imported by name so that the Qt-free core never depends on the GUI package.
    importlib.import_module("studio.ui.system_libraries").check()  # before Qt could abort the process
    app = importlib.import_module("studio.ui.app")
    return app.run(path)


if __name__ == "__main__":
    sys.exit(main())
