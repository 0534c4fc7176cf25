"""Loading trained weights into a project's network, matched by name and shape.

A weights file is read with ``torch.load(weights_only=True)`` (or safetensors)
and may be any of what a run writes, or the checkpoint of the module a network
was imported from (its own state_dict keys, see `ORIGINAL_KEY`):

* a plain state_dict (``final.pt`` of a one-network run, ``studio export --format state_dict``);
* a run checkpoint (``checkpoint_epochN.pt``, ``last.pt``): a dict whose
  ``"models"`` maps a role to a state_dict: ``"model"`` for supervised runs,
  a network name otherwise;
* ``{role: state_dict}`` (``final.pt`` of a run with several networks).

`load_weights` compares the file with the names and shapes the network's
compiled module expects and returns a `LoadReport`: what matched, what is
missing, what the file has in excess, and what has the wrong shape. The
matched tensors travel in the report (`LoadReport.state`), and
`apply_weights` puts them into a model. A project run can name a weights file
to start from in ``project.training["init_weights"]``; `apply_initial_weights`
applies it.

An imported network keeps the module's own names for its weights in
``project.metadata["weight_keys"][network]``: ``{"keys": {network key:
module key}, "unused": [module keys no layer uses]}``, for the keys that differ
(a module's ``features.1.conv.0.0.weight`` is the network's
``features_1_conv_0_0.weight``). `load_weights` reads a file with the module's
keys through it, so the user's own checkpoints load; `to_original` gives a
state_dict the module's keys back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from studio.compile.fx import compile_network
from studio.errors import StudioError
from studio.graph.project import Project

INIT_KEY = "init_weights"
ORIGINAL_KEY = "weight_keys"


@dataclass
class LoadReport:
    """How a weights file fits a network.

    Attributes:
        matched: names found with the right shape (their tensors are in `state`).
        missing: names the network has and the file lacks (they keep their values).
        unexpected: names in the file the network does not have.
        mismatched: (name, shape the network expects, shape in the file).
        state: the matched tensors, ready for `apply_weights`.
        source: where the weights came from, for messages.
    """

    matched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)
    state: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)
    source: str = ""

    @property
    def ok(self) -> bool:
        """True when every name matched and nothing was left over."""
        return not (self.missing or self.unexpected or self.mismatched)

    def summary(self, limit: int = 5) -> str:
        """A few lines for a person: counts, then the first names of each kind of problem."""
        lines = [f"{self.source or 'weights'}: {len(self.matched)} matched, {len(self.missing)} missing, "
                 f"{len(self.unexpected)} unexpected, {len(self.mismatched)} of the wrong shape"]
        for name, exp, got in self.mismatched[:limit]:
            lines.append(f"  {name}: the network has shape {tuple(exp)}, the file {tuple(got)}")
        for label, names in (("missing", self.missing), ("unexpected", self.unexpected)):
            if names:
                more = f" and {len(names) - limit} more" if len(names) > limit else ""
                lines.append(f"  {label}: {', '.join(names[:limit])}{more}")
        return "\n".join(lines)


def read_state_dict(path: str | Path, network: str | None = None) -> dict[str, torch.Tensor]:
    """The state_dict in a weights file (plain, a run checkpoint, or ``{role: state_dict}``).

    Args:
        path: a ``.pt``/``.pth`` file (read weights-only) or a ``.safetensors`` file.
        network: the network whose weights to take from a file holding several;
            ``"model"`` (the supervised role) is tried first.
    """
    path = Path(path)
    data = _read(path)
    if isinstance(data, dict) and isinstance(data.get("models"), dict):
        data = data["models"]
    if _is_state(data):
        return dict(data)
    if isinstance(data, dict):
        roles = {k: v for k, v in data.items() if isinstance(v, dict) and _is_state(v)}
        for key in ("model", network):
            if key in roles:
                return dict(roles[key])
        if len(roles) == 1:
            return dict(next(iter(roles.values())))
        if roles:
            raise StudioError(f"{path} holds weights for {', '.join(roles)}; none is called "
                              f"'{network or 'model'}': name the network to load (--network NAME)")
    raise StudioError(f"{path} holds no weights: expected a state_dict or a checkpoint written by "
                      f"'studio train' (final.pt, last.pt, checkpoint_epochN.pt)")


def load_weights(project: Project, weights: str | Path | dict, network: str | None = None) -> LoadReport:
    """Matches a weights file (or a state_dict) against a network, by name and shape.

    Nothing is changed: apply the report with `apply_weights`.
    """
    net = project.network(network)
    state = weights if isinstance(weights, dict) else read_state_dict(weights, net.name)
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in compile_network(project, net.name).state_dict().items()}
    if not state.keys() <= expected.keys():  # the imported module's own checkpoint, say
        state = to_compiled(project, net.name, state)
    report = LoadReport(source=str(weights) if not isinstance(weights, dict) else "state_dict")
    for name, shape in expected.items():
        if name not in state:
            report.missing.append(name)
            continue
        got = state[name]
        if not isinstance(got, torch.Tensor) or tuple(got.shape) != shape:
            report.mismatched.append((name, shape, tuple(getattr(got, "shape", ()))))
            continue
        report.matched.append(name)
        report.state[name] = got
    report.unexpected = [k for k in state if k not in expected]
    return report


def original_keys(project: Project, network: str) -> tuple[dict[str, str], list[str]]:
    """(network key -> the imported module's key, the module's keys no layer uses); empty when not imported."""
    entry = project.metadata.get(ORIGINAL_KEY, {}).get(network, {})
    return dict(entry.get("keys", {})), list(entry.get("unused", []))


def to_compiled(project: Project, network: str, state: dict) -> dict:
    """`state` with the imported module's keys renamed to the network's (its unused keys dropped)."""
    keys, unused = original_keys(project, network)
    if not keys and not unused:
        return state
    back = {original: key for key, original in keys.items()}
    dropped = set(unused)
    return {back.get(k, k): v for k, v in state.items() if k not in dropped}


def to_original(project: Project, network: str, state: dict) -> dict:
    """`state` (the network's keys) under the keys of the module it was imported from."""
    keys, _ = original_keys(project, network)
    return {keys.get(k, k): v for k, v in state.items()}


def apply_weights(model: nn.Module, report: LoadReport, strict: bool = True) -> LoadReport:
    """Copies the matched tensors of `report` into `model` (a compiled network).

    With `strict`, refuses (StudioError, nothing changed) unless everything
    matched; otherwise the missing names keep their current values.
    """
    if strict and not report.ok:
        raise StudioError(f"the weights do not fit the network:\n{report.summary()}\n"
                          f"Load them non-strictly to keep what matches, or pick the right file.")
    with torch.no_grad():
        model.load_state_dict(report.state, strict=False)
    return report


def apply_initial_weights(model: nn.Module, project: Project, network: str | None = None,
                          base: str | Path | None = None) -> LoadReport | None:
    """Applies ``project.training["init_weights"]`` (a path, relative to `base`) non-strictly, if set."""
    value = project.training.get(INIT_KEY)
    if not value:
        return None
    path = Path(value)
    if base is not None and not path.is_absolute():
        path = Path(base) / path
    return apply_weights(model, load_weights(project, path, network), strict=False)


def _is_state(data: Any) -> bool:
    return isinstance(data, dict) and bool(data) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in data.items())


def _read(path: Path) -> Any:
    if not path.is_file():
        raise StudioError(f"{path}: no such weights file; give the path of a .pt or .safetensors file")
    if path.suffix == ".safetensors":
        try:
            from safetensors.torch import load_file
        except ImportError:
            raise StudioError(f"{path}: reading .safetensors needs the safetensors package "
                              f"(pip install safetensors)") from None
        try:
            return load_file(str(path))
        except Exception as e:
            raise StudioError(f"{path}: not a readable safetensors file ({e})") from None
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise StudioError(f"{path}: cannot be read as a weights-only file ({first[:200]}); "
                          f"only tensors, numbers and plain containers are accepted") from None
