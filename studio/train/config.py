"""`TrainConfig`: the project's "training" JSON section, checked and typed.

The section is a flat JSON object; every key is optional and has a default.
`TrainConfig.from_dict(d)` refuses an unknown key or a bad value with a
`TrainingError` that names the key and the allowed values, and
`TrainConfig.to_dict()` gives back a JSON-native dict that `from_dict` accepts.

Keys (default):
    recipe ("supervised"), loss ("auto": cross_entropy for classification, mse
    otherwise), label_smoothing (0.0), optimizer ("adam"), lr (0.001),
    momentum (0.9, sgd and rmsprop), nesterov (false), betas ([0.9, 0.999]),
    weight_decay (0.0, L2; decoupled for adamw), l1 (0.0, penalty on all
    weights), schedule ("none"), warmup_epochs (0), step_size (10, epochs),
    gamma (0.1), min_lr (0.0), plateau_patience (2), plateau_factor (0.1),
    epochs (10), batch_size (64, the global batch across processes),
    grad_clip (0.0 = off; max gradient norm), early_stop_metric ("val_loss"),
    early_stop_patience (0 = off), early_stop_mode ("auto"), seed (0),
    device ("auto"), mixed_precision ("auto"), channels_last ("auto"),
    compile ("off"; "default", "reduce-overhead" or "max-autotune" train through
    torch.compile, see `studio.train.compiling`), qat ("off"; "int8" trains
    with torchao's fake-quantized Linear layers and saves final_int8.pt, see
    `studio.train.qat`),
    num_workers (0), keep_checkpoints (2: the newest epoch checkpoints kept,
    besides the best epoch's, best.pt and final.pt; 0 keeps all),
    sample_predictions (8), histogram_every (100 steps between per-layer
    histograms of weights, gradients and activations and the gradient norms;
    0 = off), tensorboard ("auto": TensorBoard event files in the run folder
    when the tensorboard package is installed).

Keys only some recipes read: sample_prompt ("": the start of the validation
text), sample_length (200 tokens), temperature (0.8) for the language
model's text samples; probe_words ([]: a few words the recipe picks) for the
skip-gram recipe's nearest-neighbour table; beam_width (4), length_penalty
(0.0: GNMT's alpha) and attention_example (0: the validation example whose
attention map is reported) for the seq2seq recipe.

Keys of the reinforcement-learning recipes (``dqn``, ``actor_critic``):
env ("CartPole-v1", a gymnasium environment with discrete actions),
env_steps (1000, environment steps per epoch), discount (0.99),
eval_episodes (5, greedy episodes behind val_return); for ``dqn``:
td_target ("q_learning", "sarsa" or "expected_sarsa"), replay_size (50000),
learning_starts (1000, transitions in the buffer before updates start),
train_every (1, environment steps per update), target_update (500, steps
between copies into the target network), target_tau (0.0 = hard copies; above
0, a soft update by that share after every update), epsilon_start (1.0),
epsilon_end (0.05), epsilon_decay_steps (10000, linear), double_dqn (true:
the online network picks the next greedy action, the target network values
it), restore_best (true: end the run with the weights whose greedy return
was best), best_eval_every (1000 environment steps between those greedy
checks), best_eval_episodes (10 episodes per check); for
``actor_critic``: num_envs (8), rollout_steps (5, the n of the n-step
return), entropy_coef (0.01), value_coef (0.5).

Keys of the ``gan`` recipe: d_steps (1, discriminator updates per generator
update, each on its own batch), gradient_penalty (0.0 = off; weight of the
zero-centred penalty on the discriminator's gradient between real and fake
samples), g_ema (0.0 = off; decay of the moving average of the generator's
weights that samples and saved weights use, e.g. 0.999); label_smoothing
sets its real target to 1 - label_smoothing (one-sided, below 0.5).

Keys of the ``distillation`` recipe (`studio.train.distil`): teacher (a
project file), teacher_network ("": its first network), teacher_weights
("": the teacher's own init_weights), distill_temperature (2.0, T: the best
of 2, 4 and 8 on the validation split in bench/combine.py) and distill_alpha
(0.5, the weight of the softened teacher's term).
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from studio.errors import TrainingError
from studio.train.qat import SCHEMES as QAT_SCHEMES
from studio.train.recipes import RECIPES

LOSS_NAMES = ("auto", "cross_entropy", "bce", "bce_logits", "mse", "l1", "kl_div", "nll")
OPTIMIZER_NAMES = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULE_NAMES = ("none", "step", "cosine", "onecycle", "plateau")
STOP_MODES = ("auto", "min", "max")
ENV_NAMES = ("CartPole-v1", "Acrobot-v1", "MountainCar-v0")
TD_TARGETS = ("q_learning", "sarsa", "expected_sarsa")
# torch.compile's modes, or "off" (`studio.train.compiling`).
COMPILE_MODES = ("off", "default", "reduce-overhead", "max-autotune")
# "auto" on the device chooser; the rest are checked again when the run starts.
_DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


@dataclass
class TrainConfig:
    """How to train: every field is one key of the project's "training" section."""

    recipe: str = "supervised"
    loss: str = "auto"
    label_smoothing: float = 0.0
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    nesterov: bool = False
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    weight_decay: float = 0.0
    l1: float = 0.0
    schedule: str = "none"
    warmup_epochs: int = 0
    step_size: int = 10
    gamma: float = 0.1
    min_lr: float = 0.0
    plateau_patience: int = 2
    plateau_factor: float = 0.1
    epochs: int = 10
    batch_size: int = 64
    grad_clip: float = 0.0
    early_stop_metric: str = "val_loss"
    early_stop_patience: int = 0
    early_stop_mode: str = "auto"
    seed: int = 0
    device: str = "auto"
    mixed_precision: bool | str = "auto"
    channels_last: bool | str = "auto"
    compile: str = "off"
    qat: str = "off"
    num_workers: int = 0
    keep_checkpoints: int = 2
    sample_predictions: int = 8
    sample_prompt: str = ""
    sample_length: int = 200
    temperature: float = 0.8
    probe_words: list[str] = field(default_factory=list)
    beam_width: int = 4
    length_penalty: float = 0.0
    attention_example: int = 0
    env: str = "CartPole-v1"
    env_steps: int = 1000
    discount: float = 0.99
    eval_episodes: int = 5
    td_target: str = "q_learning"
    replay_size: int = 50000
    learning_starts: int = 1000
    train_every: int = 1
    target_update: int = 500
    target_tau: float = 0.0
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_decay_steps: int = 10000
    double_dqn: bool = True
    restore_best: bool = True
    best_eval_every: int = 1000
    best_eval_episodes: int = 10
    num_envs: int = 8
    rollout_steps: int = 5
    entropy_coef: float = 0.01
    value_coef: float = 0.5
    d_steps: int = 1
    gradient_penalty: float = 0.0
    g_ema: float = 0.0
    histogram_every: int = 100
    tensorboard: bool | str = "auto"
    teacher: str = ""
    teacher_network: str = ""
    teacher_weights: str = ""
    distill_temperature: float = 2.0
    distill_alpha: float = 0.5

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> TrainConfig:
        """Build a config from a "training" section, checking every key.

        Raises:
            TrainingError: an unknown key or a bad value; the message names the
                key and what is allowed.
        """
        d = dict(d or {})
        unknown = sorted(set(d) - set(field_names()))
        if unknown:
            raise TrainingError(
                f"training: unknown key '{unknown[0]}'; allowed keys: {', '.join(field_names())}"
            )
        values = {key: _check(key, value) for key, value in d.items()}
        config = cls(**values)
        config.validate()
        return config

    def to_dict(self) -> dict[str, Any]:
        """The config as a JSON-native dict (a fresh copy)."""
        return {f.name: _copy(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def validate(self) -> None:
        """Check every field and the rules that tie fields together."""
        for name in field_names():
            _check(name, getattr(self, name))
        if self.warmup_epochs >= self.epochs and self.warmup_epochs > 0:
            raise TrainingError(
                f"training.warmup_epochs: {self.warmup_epochs} leaves no epoch after the warmup "
                f"of a {self.epochs}-epoch run; use fewer than {self.epochs}"
            )
        if self.recipe == "distillation" and not self.teacher:
            raise TrainingError("training.teacher: the distillation recipe needs a teacher project file "
                                "(studio train STUDENT --teacher TEACHER --teacher-weights CKPT)")
        if self.optimizer == "sgd" and self.nesterov and self.momentum == 0:
            raise TrainingError(
                "training.nesterov: Nesterov SGD needs momentum > 0; set momentum (e.g. 0.9) "
                "or nesterov to false"
            )

    def replace(self, **changes: Any) -> TrainConfig:
        """A checked copy with some fields changed."""
        return TrainConfig.from_dict({**self.to_dict(), **changes})


def field_names() -> list[str]:
    """Every key a "training" section may hold, in declaration order."""
    return [f.name for f in dataclasses.fields(TrainConfig)]


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


# --- value checks: one small function per kind of value --------------------------

def _choice(*allowed: str) -> Callable[[str, Any], Any]:
    def check(key: str, value: Any) -> Any:
        if value not in allowed:
            raise TrainingError(
                f"training.{key}: unknown value {value!r}; allowed: {', '.join(allowed)}"
            )
        return value
    return check


MAX_INTEGER = 2 ** 53  # every count and size a run uses is far smaller


def _number(low: float = 0.0, low_open: bool = False, high: float = math.inf,
            integer: bool = False) -> Callable[[str, Any], Any]:
    kind = "an integer" if integer else "a number"
    bound = f"> {low}" if low_open else f">= {low}"
    if high != math.inf:
        bound += f" and <= {high}"

    def check(key: str, value: Any) -> Any:
        if integer and isinstance(value, float) and value.is_integer():
            value = int(value)  # 10.0 from a JSON writer that knows only floats
        ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
        # A whole number past MAX_INTEGER cannot be a count, and past 1e308 math.isfinite raises OverflowError.
        if isinstance(value, bool) or not ok_type or (isinstance(value, int) and abs(value) > MAX_INTEGER) \
                or not math.isfinite(value):
            raise TrainingError(f"training.{key}: must be {kind} {bound}, got {_short(value)}")
        if value < low or (low_open and value == low) or value > high:
            raise TrainingError(f"training.{key}: must be {kind} {bound}, got {value!r}")
        return value if integer else float(value)
    return check


def _short(value: Any) -> str:
    if isinstance(value, int) and abs(value) > MAX_INTEGER:
        return f"a number of {len(str(abs(value)))} digits"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _flag(key: str, value: Any) -> Any:
    if not isinstance(value, bool):
        raise TrainingError(f"training.{key}: must be true or false, got {value!r}")
    return value


def _flag_or_auto(key: str, value: Any) -> Any:
    if value != "auto" and not isinstance(value, bool):
        raise TrainingError(f"training.{key}: must be true, false or \"auto\", got {value!r}")
    return value


def _betas(key: str, value: Any) -> Any:
    ok = (isinstance(value, (list, tuple)) and len(value) == 2
          and all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0 <= b < 1
                  for b in value))
    if not ok:
        raise TrainingError(f"training.{key}: must be two numbers in [0, 1), got {value!r}")
    return [float(b) for b in value]


def _device(key: str, value: Any) -> Any:
    if not isinstance(value, str) or not _DEVICE_PATTERN.match(value):
        raise TrainingError(
            f"training.{key}: unknown device {value!r}; allowed: auto, cpu, cuda, cuda:N, mps"
        )
    return value


def _recipe(key: str, value: Any) -> Any:
    return _choice(*RECIPES)(key, value)


def _text(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        raise TrainingError(f"training.{key}: must be a string, got {value!r}")
    return value


def _words(key: str, value: Any) -> Any:
    if not isinstance(value, (list, tuple)) or not all(isinstance(w, str) and w for w in value):
        raise TrainingError(f"training.{key}: must be a list of words, e.g. [\"cat\", \"rain\"], got {value!r}")
    return list(value)


def _metric_name(key: str, value: Any) -> Any:
    if not isinstance(value, str) or not re.match(r"^(train|val)_\w+$", value):
        raise TrainingError(
            f"training.{key}: must name an epoch metric such as val_loss or val_accuracy, "
            f"got {value!r}"
        )
    return value


_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "recipe": _recipe,
    "loss": _choice(*LOSS_NAMES),
    "label_smoothing": _number(high=1.0),
    "optimizer": _choice(*OPTIMIZER_NAMES),
    "lr": _number(low_open=True),
    "momentum": _number(high=1.0),
    "nesterov": _flag,
    "betas": _betas,
    "weight_decay": _number(),
    "l1": _number(),
    "schedule": _choice(*SCHEDULE_NAMES),
    "warmup_epochs": _number(integer=True),
    "step_size": _number(low=1, integer=True),
    "gamma": _number(low_open=True, high=1.0),
    "min_lr": _number(),
    "plateau_patience": _number(integer=True),
    "plateau_factor": _number(low_open=True, high=1.0),
    "epochs": _number(low=1, integer=True),
    "batch_size": _number(low=1, integer=True),
    "grad_clip": _number(),
    "early_stop_metric": _metric_name,
    "early_stop_patience": _number(integer=True),
    "early_stop_mode": _choice(*STOP_MODES),
    "seed": _number(integer=True),
    "device": _device,
    "mixed_precision": _flag_or_auto,
    "channels_last": _flag_or_auto,
    "compile": _choice(*COMPILE_MODES),
    "qat": _choice(*QAT_SCHEMES),
    "num_workers": _number(integer=True),
    "keep_checkpoints": _number(integer=True),
    "sample_predictions": _number(integer=True, high=64),
    "sample_prompt": _text,
    "sample_length": _number(integer=True, high=100_000),
    "temperature": _number(low_open=True, high=100.0),
    "probe_words": _words,
    "beam_width": _number(low=1, integer=True, high=64),
    "length_penalty": _number(high=10.0),
    "attention_example": _number(integer=True),
    "env": _choice(*ENV_NAMES),
    "env_steps": _number(low=1, integer=True),
    "discount": _number(high=1.0),
    "eval_episodes": _number(low=1, integer=True, high=1000),
    "td_target": _choice(*TD_TARGETS),
    "replay_size": _number(low=1, integer=True),
    "learning_starts": _number(integer=True),
    "train_every": _number(low=1, integer=True),
    "target_update": _number(low=1, integer=True),
    "target_tau": _number(high=1.0),
    "epsilon_start": _number(high=1.0),
    "epsilon_end": _number(high=1.0),
    "epsilon_decay_steps": _number(low=1, integer=True),
    "double_dqn": _flag,
    "restore_best": _flag,
    "best_eval_every": _number(low=1, integer=True),
    "best_eval_episodes": _number(low=1, integer=True, high=1000),
    "num_envs": _number(low=1, integer=True, high=256),
    "rollout_steps": _number(low=1, integer=True),
    "entropy_coef": _number(),
    "value_coef": _number(),
    "d_steps": _number(low=1, integer=True, high=100),
    "gradient_penalty": _number(high=1000.0),
    "g_ema": _number(high=0.9999),
    "histogram_every": _number(integer=True),
    "tensorboard": _flag_or_auto,
    "teacher": _text,
    "teacher_network": _text,
    "teacher_weights": _text,
    "distill_temperature": _number(low_open=True, high=100.0),
    "distill_alpha": _number(high=1.0),
}


def _check(key: str, value: Any) -> Any:
    return _CHECKS[key](key, value)
