"""Quality of the sequence and text presets after a short CPU run, and the trainer's cost on one.

Every preset trains with its own settings (fewer epochs where said) on its
generated data, on the CPU, in one process:

    rnn_classifier / lstm_classifier / gru_classifier / fasttext
        test accuracy on a held-out 10 % (``test_split`` 0.1)
    lstm_lm
        validation perplexity, next to the perplexity of a unigram model
        (character frequencies of the training text) on the same text
    word2vec
        of the 5 nearest neighbours (cosine, ``in_embed``) of every content
        word among the content words, the share that belong to the same
        topic of the grammar, and the same share for the same part of speech;
        the share a random choice would reach is printed beside each
    lstm_classifier_trainer_over_plain
        seconds per epoch of `Trainer` over a plain PyTorch loop (same
        compiled model, data tensors, batch size, Adam, one validation pass per
        epoch), the median of interleaved repeats

    python bench/recipes_sequences.py [--threads 1] [--lm-epochs 4] [--repeats 3]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from studio.data import grammar  # noqa: E402
from studio.graph import io  # noqa: E402
from studio.presets import resolve  # noqa: E402
from studio.train import Trainer  # noqa: E402
from studio.train.events import EpochEnded  # noqa: E402
from studio.train.project_run import data_for, models_for, optimiser_settings  # noqa: E402
from studio.train.recipes.skipgram import word_vectors  # noqa: E402


def prepare(name: str, data: dict | None = None, training: dict | None = None):
    project = io.load(resolve(name))
    training = {**project.training, "device": "cpu", **(training or {})}
    data = {**project.data, **(data or {})}
    return models_for(project, training), data_for(project, training, data), optimiser_settings(training)


def train(name: str, data: dict | None = None, training: dict | None = None):
    models, splits, config = prepare(name, data, training)
    epochs: list[dict] = []
    result = Trainer(models, splits, config,
                     lambda e: epochs.append(e.metrics) if isinstance(e, EpochEnded) else None).run()
    if not hasattr(result, "test"):
        raise SystemExit(f"{name}: {result.message}")
    return models["model"], splits, epochs, result


def classifier_accuracy(name: str) -> float:
    _, _, _, result = train(name, data={"test_split": 0.1})
    return result.test["test_accuracy"]


def unigram_perplexity(splits) -> float:
    """Perplexity of character frequencies of the training stream (add-one) on the validation stream."""
    counts = torch.bincount(splits.train.tokens, minlength=splits.num_classes).double() + 1
    logp = (counts / counts.sum()).log()
    val = splits.val.tokens
    return math.exp(-float(logp[val].mean()))


def language_model(epochs: int) -> tuple[float, float, str]:
    _, splits, history, _ = train("lstm_lm", training={"epochs": epochs})
    return history[-1]["val_perplexity"], unigram_perplexity(splits), history[-1]["samples_text"][0]


def word2vec_shares() -> dict[str, float]:
    model, splits, _, _ = train("word2vec")
    vectors = F.normalize(word_vectors(model)[:len(splits.class_names)], dim=1)
    topic_of = grammar.word_topic()
    kind_of = {w: k for kinds in grammar.TOPICS.values() for k, words in kinds.items() for w in words}
    content = [i for i, w in enumerate(splits.class_names) if w in topic_of]
    words = [splits.class_names[i] for i in content]
    sims = vectors[content] @ vectors[content].T
    sims.fill_diagonal_(-2.0)
    near = sims.topk(5, dim=1).indices.tolist()
    shares = {}
    for label, of in (("topic", topic_of), ("part_of_speech", kind_of)):
        same = [of[words[j]] == of[w] for w, row in zip(words, near) for j in row]
        chance = statistics.mean((sum(of[v] == of[w] for v in words) - 1) / (len(words) - 1) for w in words)
        shares[label] = (sum(same) / len(same), chance)
    return shares


def plain_epochs(model, splits, config: dict, epochs: int) -> float:
    """Seconds per epoch of a hand-written loop: shuffle, step, one validation pass."""
    xs, ys = splits.train.tensors if hasattr(splits.train, "tensors") else _stack(splits.train)
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
            loss = F.cross_entropy(model(xs[rows]), ys[rows])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config["grad_clip"])
            optimizer.step()
        model.eval()
        with torch.no_grad():
            right = sum(int((model(vx[i:i + batch]).argmax(1) == vy[i:i + batch]).sum())
                        for i in range(0, len(vx), batch))
        assert right >= 0
    return (time.perf_counter() - start) / epochs


def _stack(dataset):
    xs, ys = zip(*(dataset[i] for i in range(len(dataset))))
    return torch.stack(xs), torch.stack(ys)


def trainer_over_plain(make, plain, epochs: int, repeats: int) -> tuple[float, float, float]:
    """(ratio, plain seconds, trainer seconds) per epoch, medians of interleaved repeats.

    ``make()`` gives fresh (models, splits, optimiser settings); ``plain(model, splits,
    config, epochs)`` is the hand-written loop's seconds per epoch.
    """
    plains, trainers = [], []
    for _ in range(repeats):
        models, splits, config = make()
        plains.append(plain(models["model"], splits, config, epochs))
        models, splits, config = make()
        start = time.perf_counter()
        Trainer(models, splits, config).run()
        trainers.append((time.perf_counter() - start) / epochs)
    p, t = statistics.median(plains), statistics.median(trainers)
    return t / p, p, t


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1 on a busy machine)")
    parser.add_argument("--lm-epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    begin = time.perf_counter()
    for name in ("rnn_classifier", "lstm_classifier", "gru_classifier", "fasttext"):
        print(f"{name}_test_accuracy: {classifier_accuracy(name):.4f}", flush=True)
    ppl, unigram, sample = language_model(args.lm_epochs)
    print(f"lstm_lm_val_perplexity: {ppl:.3f}")
    print(f"lstm_lm_unigram_perplexity: {unigram:.3f}")
    print(f"lstm_lm_sample: {sample[:80]!r}", flush=True)
    for label, (share, chance) in word2vec_shares().items():
        print(f"word2vec_neighbours_same_{label}: {share:.3f}")
        print(f"word2vec_neighbours_same_{label}_chance: {chance:.3f}")
    ratio, plain_s, trainer_s = trainer_over_plain(
        lambda: prepare("lstm_classifier", training={"epochs": 3}), plain_epochs, 3, args.repeats)
    print(f"lstm_classifier_plain_s_per_epoch: {plain_s:.3f}")
    print(f"lstm_classifier_trainer_s_per_epoch: {trainer_s:.3f}")
    print(f"lstm_classifier_trainer_over_plain: {ratio:.3f}")
    print(f"bench_seconds: {time.perf_counter() - begin:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
