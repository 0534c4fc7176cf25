"""Quality of the attention presets' recipes on generated data, and the trainer's speed against plain PyTorch.

Prints ``name: value`` lines: exact match on held-out (validation) digit strings (the
Transformer with greedy decoding and with beam search; the LSTM
encoder-decoder with attention), the self-attention classifier's held-out
accuracy, BERT mini's masked-token accuracy, and the seconds per epoch of the
Trainer over a plain PyTorch loop training the same compiled Transformer on
the same batches (a ratio, same process). CPU, a few minutes.
"""

from __future__ import annotations

import time

import torch

from studio.graph import io
from studio.presets import resolve
from studio.train.events import EpochEnded
from studio.train.project_run import data_for, models_for, optimiser_settings
from studio.train.recipes.seq2seq import shift_right, token_loss
from studio.train.trainer import Trainer


def run(name, epochs, data=None, training=None):
    project = io.load(resolve(name))
    training = {**project.training, "epochs": epochs, "device": "cpu", **(training or {})}
    models = models_for(project, training)
    splits = data_for(project, training, {**project.data, **(data or {})})
    seen = []
    start = time.perf_counter()
    Trainer(models, splits, optimiser_settings(training),
            lambda e: seen.append(e.metrics) if isinstance(e, EpochEnded) else None).run()
    return seen[-1], (time.perf_counter() - start) / epochs, models["model"], splits


def plain_epoch_seconds(model, splits, batch_size, lr):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loader = torch.utils.data.DataLoader(splits.train, batch_size=batch_size, shuffle=True)
    model.train()
    start = time.perf_counter()
    for src, tgt in loader:
        optimizer.zero_grad()
        loss = token_loss(model(src, shift_right(tgt)), tgt)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    return time.perf_counter() - start


def main():
    torch.manual_seed(0)
    m, _, _, _ = run("transformer", 12, data={"n": 3000}, training={"lr": 0.002})
    print(f"transformer_exact_match_greedy: {m['val_exact_match']:.3f}")
    print(f"transformer_exact_match_beam: {m['val_exact_match_beam']:.3f}")
    m, _, _, _ = run("seq2seq_attention", 8, data={"n": 3000})
    print(f"seq2seq_attention_exact_match: {m['val_exact_match']:.3f}")
    m, _, _, _ = run("self_attention", 4)
    print(f"self_attention_heldout_accuracy: {m['val_accuracy']:.3f}")
    m, _, _, _ = run("bert_mini", 4)
    print(f"bert_mini_masked_accuracy: {m['val_masked_accuracy']:.3f}")
    # Speed: one epoch without evaluation cost dominating (beam width 1, little validation).
    _, trainer_s, model, splits = run("transformer", 1, data={"n": 3000, "val_split": 0.02},
                                      training={"beam_width": 1, "length_penalty": 0.0})
    plain_s = plain_epoch_seconds(model, splits, 64, 0.001)
    print(f"transformer_trainer_seconds_per_epoch: {trainer_s:.2f}")
    print(f"transformer_plain_seconds_per_epoch: {plain_s:.2f}")
    print(f"transformer_trainer_over_plain: {trainer_s / plain_s:.2f}")


if __name__ == "__main__":
    main()
