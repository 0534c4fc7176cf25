"""`compress`: check the settings, load the trained network, run one method, return before and after.

The settings are checked before anything is loaded, each refusal naming the
command-line option it comes from (``--amount: 1.5 is outside (0, 1) ...``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from studio.compress.measure import Figures
from studio.compress.subject import Subject, load_subject
from studio.errors import StudioError
from studio.graph import Project

METHODS = ("quantize", "prune")
SUFFIXES = {"quantize": ".onnx", "prune": ".pt", "structured": ".json"}


@dataclass
class CompressResult:
    """A finished compression.

    Attributes:
        before, after: the figures of the trained network and of the compressed one.
        files: what was written, the main file first.
        notes: what the user should know (the mode used, layers left alone, how to use the file).
        summary: after structured pruning, the per-layer tables before and after
            (``{"before": ..., "after": ...}`` in the `studio summary --json` form); else empty.
    """

    before: Figures
    after: Figures
    files: list[Path]
    notes: list[str] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The `studio compress --json` form: ``{"before": {...}, "after": {...}, "files", "notes", "summary"}``."""
        return {"before": self.before.to_dict(), "after": self.after.to_dict(),
                "files": [str(f) for f in self.files], "notes": list(self.notes), "summary": self.summary}


def check_settings(method: str, out: Path, amount: float = 0.5, structured: bool = False,
                   finetune_epochs: int = 0, mode: str = "auto") -> None:
    """StudioError naming the option when a setting is out of range or does not fit the method."""
    from studio.compress.quantize import MODES

    if method not in METHODS:
        raise StudioError(f"--method: unknown method '{method}'; choose {' or '.join(METHODS)}")
    if not isinstance(amount, (int, float)) or not 0 < amount < 1:
        raise StudioError(f"--amount: {amount} is outside (0, 1); give the fraction to remove, e.g. 0.5")
    if mode not in MODES:
        raise StudioError(f"--quantize-mode: unknown mode '{mode}'; choose {', '.join(MODES)}")
    if finetune_epochs < 0:
        raise StudioError(f"--finetune-epochs: {finetune_epochs} is below 0; give a number of epochs (0: none)")
    if method == "quantize" and (structured or finetune_epochs):
        option = "--structured" if structured else "--finetune-epochs"
        raise StudioError(f"{option} applies to --method prune only")
    suffix = SUFFIXES["structured" if structured else method]
    if out.suffix.lower() != suffix:
        what = {".onnx": "the int8 ONNX model", ".pt": "the pruned weights", ".json": "the pruned project"}[suffix]
        raise StudioError(f"-o: {out.name} should end in {suffix}: the output is {what}")
    if not out.parent.is_dir():
        raise StudioError(f"-o: the folder {out.parent} does not exist; create it or choose another")


def compress(project: Project, weights, method: str, out: str | Path, amount: float = 0.5,
             structured: bool = False, finetune_epochs: int = 0, mode: str = "auto",
             root: Path | None = None, preset: bool = False, progress=None, repeats: int = 20) -> CompressResult:
    """Compresses the project's trained (first) network and measures it before and after.

    Args:
        project: the project (not changed).
        weights: the trained weights: a file a run wrote, or a state_dict.
        method: "quantize" or "prune".
        out: the file to write: ``.onnx`` (quantize), ``.pt`` (prune), ``.json`` (prune, structured).
        amount: the fraction of weights (or, structured, of channels) to remove.
        structured: remove whole channels and edit the project.
        finetune_epochs: epochs of fine-tuning after pruning (the project's own training settings).
        mode: quantization mode: "auto", "static" or "dynamic".
        root: the project's folder (for relative data paths).
        preset: the project is a preset (its class count follows the data, as `studio train` does).
        progress: called as ``progress(step, fraction)``.
        repeats: timed calls per latency figure.

    Raises:
        StudioError: a bad setting (naming it), weights that do not fit, a failure while compressing.
    """
    out = Path(out).absolute()
    check_settings(method, out, amount, structured, finetune_epochs, mode)
    subject = load_subject(project, weights, root, preset)
    subject.repeats = repeats
    before, after, notes, files, summary = _run_method(subject, method, out, amount, structured, finetune_epochs,
                                                       mode, progress)
    if method == "prune" and not finetune_epochs:
        notes.append("not fine-tuned: --finetune-epochs N trains the pruned network back with the project's settings")
    if progress:
        progress("done", 1.0)
    return CompressResult(before, after, files, subject.notes + notes, summary)


def _run_method(subject: Subject, method: str, out: Path, amount: float, structured: bool, finetune_epochs: int,
                mode: str, progress) -> tuple[Figures, Figures, list[str], list[Path], dict]:
    """Runs the one method the settings name; (before, after, notes, files, summary)."""
    if method == "quantize":
        from studio.compress.quantize import quantize

        before, after, notes = quantize(subject, out, mode, progress)
        return before, after, notes, [out], {}
    if structured:
        from studio.compress.channels import structured_prune

        return structured_prune(subject, amount, finetune_epochs, out, progress)
    from studio.compress.prune import unstructured

    before, after, notes = unstructured(subject, amount, finetune_epochs, out, progress)
    return before, after, notes, [out], {}
