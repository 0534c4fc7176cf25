"""Quality of the attention presets after a short CPU run, and the trainer's cost on the Transformer.

Every preset trains with its own settings (fewer samples and epochs where
said) on its generated data, on the CPU, in one process:

    transformer
        exact match (the whole target, EOS included) on the held-out
        validation strings after 8 epochs on 3,000 reversal rows, decoded
        greedily and with the preset's beam search (width 3, length penalty 0.6)
    seq2seq_attention
        the same greedy exact match after 8 epochs
    seq2seq_attention_dates
        greedy exact match of the LSTM encoder-decoder built for the date task
        ("23 march 2021", "mar 23, 2021", "23/03/2021" -> "2021-03-23"), after
        ``--date-epochs`` epochs on 3,000 rows (0 leaves it out)
    self_attention / bert_mini
        held-out accuracy, masked-token accuracy after 4 epochs
    transformer_trainer_over_plain
        seconds per epoch of `Trainer` over a plain PyTorch loop (same
        compiled model, 2,000 rows, batch size, Adam, gradient clipping, one
        validation pass with teacher-forced loss and greedy decoding per
        epoch; beam search off in both), two epochs each, the median of
        interleaved repeats

    python bench/recipes_attention.py [--threads 1] [--repeats 3] [--date-epochs 5]

About three minutes on two busy cores. One thread is the default: on a
machine whose cores are shared, more threads than free cores make small
models many times slower.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "presets"))

import build_attention
import torch

from studio.graph import io
from studio.presets import resolve
from studio.train.events import EpochEnded
from studio.train.project_run import data_for, models_for, optimiser_settings
from studio.train.recipes.decoding import exact_matches, greedy
from studio.train.recipes.seq2seq import shift_right, token_loss
from studio.train.trainer import Trainer
from recipes_sequences import _stack, trainer_over_plain  # the same helpers, another plain loop

# No beam search while timing: it is the same work in both loops and would only dilute the ratio.
SPEED = {"data": {"n": 2000, "val_split": 0.05}, "training": {"beam_width": 1, "length_penalty": 0.0}}


def prepare(project, epochs: int, data: dict | None = None, training: dict | None = None):
    """The models, data splits and optimiser settings of ``project`` (a preset name or a Project)."""
    project = io.load(resolve(project)) if isinstance(project, str) else project
    training = {**project.training, "epochs": epochs, "device": "cpu", **(training or {})}
    models = models_for(project, training)
    return models, data_for(project, training, {**project.data, **(data or {})}), optimiser_settings(training)


def train(project, epochs: int, data: dict | None = None, training: dict | None = None) -> dict:
    """The last epoch's metrics."""
    models, splits, config = prepare(project, epochs, data, training)
    seen: list[dict] = []
    result = Trainer(models, splits, config, lambda e: seen.append(e.metrics) if isinstance(e, EpochEnded) else None).run()
    if not seen:
        raise SystemExit(f"{project}: {getattr(result, 'message', result)}")
    return seen[-1]


def plain_epochs(model, splits, config: dict, epochs: int) -> float:
    """Seconds per epoch of a hand-written loop: shuffle, step, validation loss and greedy exact match."""
    xs, ys = _stack(splits.train)
    vx, vy = _stack(splits.val)
    optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"])
    batch = config["batch_size"]
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(xs), generator=torch.Generator().manual_seed(epoch))
        for i in range(0, len(xs), batch):
            rows = order[i:i + batch]
            optimizer.zero_grad(set_to_none=True)
            loss = token_loss(model(xs[rows], shift_right(ys[rows])), ys[rows])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config["grad_clip"])
            optimizer.step()
        model.eval()
        with torch.no_grad():
            for i in range(0, len(vx), batch):
                src, tgt = vx[i:i + batch], vy[i:i + batch]
                float(token_loss(model(src, shift_right(tgt)), tgt))
                exact_matches(greedy(model, src, tgt.shape[1]), tgt)
    return (time.perf_counter() - start) / epochs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1 on a busy machine)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--date-epochs", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    begin = time.perf_counter()
    m = train("transformer", 8, data={"n": 3000})
    print(f"transformer_exact_match_greedy: {m['val_exact_match']:.3f}")
    print(f"transformer_exact_match_beam: {m['val_exact_match_beam']:.3f}", flush=True)
    m = train("seq2seq_attention", 8, data={"n": 3000})
    print(f"seq2seq_attention_exact_match: {m['val_exact_match']:.3f}", flush=True)
    if args.date_epochs:
        m = train(build_attention.seq2seq_attention(task="dates"), args.date_epochs, data={"n": 3000})
        print(f"seq2seq_attention_dates_exact_match: {m['val_exact_match']:.3f}", flush=True)
    m = train("self_attention", 4)
    print(f"self_attention_heldout_accuracy: {m['val_accuracy']:.3f}")
    m = train("bert_mini", 4)
    print(f"bert_mini_masked_accuracy: {m['val_masked_accuracy']:.3f}", flush=True)
    ratio, plain_s, trainer_s = trainer_over_plain(
        lambda: prepare("transformer", 2, **SPEED), plain_epochs, 2, args.repeats)
    print(f"transformer_plain_seconds_per_epoch: {plain_s:.2f}")
    print(f"transformer_trainer_seconds_per_epoch: {trainer_s:.2f}")
    print(f"transformer_trainer_over_plain: {ratio:.2f}")
    print(f"bench_seconds: {time.perf_counter() - begin:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
