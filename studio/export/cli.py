"""The `studio export` and `studio import` commands, as functions for `studio.cli` to wire.

    studio export FILE [--weights CKPT] --format torchscript|pt2|onnx|python|state_dict -o PATH [--network NAME]
    studio import SPEC -o project.json [--args JSON] [--input-shape 3,32,32] [--dtype float|long]
                  [--weights-out W.pt] [--name NAME]

`run_export` prints the files written, any notes, the dimensions kept dynamic
(``dynamic: batch, source_length (2..64)``) and ``max difference 3.1e-08``;
`run_import` the project and weights files (the weights under the module's
own state_dict keys) and the difference between the module and the imported
network. Both return the exit code; failures raise
StudioError, which `studio.cli` prints in one or two lines.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from studio import trust
from studio.compile.weights import to_original
from studio.errors import StudioError
from studio.export.formats import FORMATS, default_path, export
from studio.files import write_atomic
from studio.graph import io
from studio.graph.code_nodes import project_code
from studio.graph.footprint import tensor_bytes


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds --weights, --format, -o/--output and --network (the project FILE is the caller's)."""
    parser.add_argument("--weights", metavar="CKPT",
                        help="trained weights: final.pt, a checkpoint (last.pt, checkpoint_epochN.pt) or a state_dict; "
                             "without it the export holds untrained weights")
    parser.add_argument("--format", required=True, choices=list(FORMATS),
                        help="; ".join(f"{f.name}: {f.description}" for f in FORMATS.values()))
    parser.add_argument("-o", "--output", metavar="PATH",
                        help="file to write (default: the project name with the format's suffix, here)")
    parser.add_argument("--network", metavar="NAME", help="network to export (default: the first)")


def run_export(project, args: argparse.Namespace) -> int:
    """Exports as `args` say and prints the result; returns 0 (failures raise StudioError)."""
    path = Path(args.output) if args.output else default_path(project, args.format)
    result = export(project, args.format, path, weights=args.weights, network=args.network)
    for f in result.files:
        print(f"wrote {f}")
    for note in result.notes:
        print(f"note: {note}")
    if result.dynamic:
        print(f"dynamic: {', '.join(result.dynamic)}")
    print(f"max difference {result.max_abs_diff:.2g}")
    return 0


def add_import_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds SPEC, -o/--output, --args, --input-shape, --dtype, --weights-out and --name."""
    parser.add_argument("spec", help="the module class (or a function that builds the module): "
                                     "package.module:Class or path/to/file.py:Class (the file is imported: its code runs)")
    parser.add_argument("-o", "--output", required=True, metavar="PROJECT", help="project file to write (.json)")
    parser.add_argument("--args", default="[]", metavar="JSON",
                        help='constructor arguments as JSON: a list (positional) or an object (keywords), '
                             'e.g. \'{"num_classes": 10}\'')
    parser.add_argument("--input-shape", required=True, metavar="SHAPE",
                        help="one input sample's shape without the batch, e.g. 3,32,32; several inputs: 3,32,32;10")
    parser.add_argument("--dtype", choices=("float", "long"), default="float",
                        help="input values: float, or long for token ids")
    parser.add_argument("--weights-out", metavar="W.pt",
                        help="where to save the module's weights (default: beside the project, with .pt)")
    parser.add_argument("--name", help="project name (default: the class name)")


def run_import(args: argparse.Namespace) -> int:
    """Imports the module, writes the project and its weights, prints what it did; returns 0."""
    from studio.export.importer import import_from_path

    try:
        ctor = json.loads(args.args)
    except json.JSONDecodeError as e:
        raise StudioError(f"--args is not valid JSON ({e.msg}): give a list or an object, "
                          f"e.g. '[10]' or '{{\"num_classes\": 10}}'") from None
    if not isinstance(ctor, (list, dict)):
        raise StudioError("--args must be a JSON list (positional arguments) or object (keywords)")
    result = import_from_path(args.spec, ctor, parse_shapes(args.input_shape), args.name, args.dtype)
    output = Path(args.output)
    weights = Path(args.weights_out) if args.weights_out else output.with_suffix(".pt")
    if weights.resolve() == output.resolve():
        raise StudioError(f"the weights and the project would both be written to {output}: "
                          f"give --weights-out another name")
    io.save(result.project, output)
    trust.remember(project_code(result.project))  # the user ran this code: opening the project here needs no question
    save_weights(to_original(result.project, result.network, result.state_dict), weights)
    nodes = len(result.project.network(result.network).nodes)
    print(f"wrote {output} ({nodes} nodes)")
    print(f"wrote {weights} ({len(result.state_dict)} tensors)")
    print(f"max difference {result.max_abs_diff:.2g}")
    return 0


def parse_shapes(text: str) -> list[tuple[int, ...]]:
    """``"3,32,32"`` -> ``[(3, 32, 32)]``; ``"3,32,32;10"`` -> two inputs."""
    shapes = []
    for part in text.split(";"):
        try:
            shape = tuple(int(v) for v in part.replace("x", ",").replace("×", ",").split(",") if v.strip())
        except ValueError:
            shape = ()
        if not shape or any(v < 1 for v in shape):
            raise StudioError(f"--input-shape: '{part}' is not a shape; write sizes separated by commas, "
                              f"e.g. 3,32,32 (inputs separated by ;)")
        shapes.append(shape)
    return shapes


def save_weights(state: dict, path: Path) -> None:
    """torch.save through `studio.files.write_atomic` (nothing partial on failure, the old file kept)."""
    write_atomic(path, lambda f: torch.save(state, f), what="the weights", size=tensor_bytes(state))


def main(argv: list[str] | None = None) -> int:
    """`python -m studio.export.cli export|import ...` until `studio` wires the commands."""
    parser = argparse.ArgumentParser(prog="python -m studio.export.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("export")
    p.add_argument("file")
    add_export_arguments(p)
    p = sub.add_parser("import")
    add_import_arguments(p)
    args = parser.parse_args(argv)
    try:
        if args.command == "export":
            from studio.presets import resolve

            return run_export(io.load(resolve(args.file)), args)
        return run_import(args)
    except StudioError as e:
        print(f"studio: {e}", file=sys.stderr)
        return e.exit_code


if __name__ == "__main__":
    sys.exit(main())
