"""Text from a small probabilistic grammar: the corpus of the sequence and text presets.

Nothing is downloaded: `sentences(n, seed)` writes ``n`` English-like sentences
about four topics (animals, food, weather, sport). Each sentence draws a
template, then its content words (nouns, verbs, adjectives, places) from one
topic; with probability ``noise`` a content word comes from another topic
instead. Function words (``the``, ``a``, ``in``, ...) are shared. The same
``(n, seed, noise)`` always gives the same sentences, on any machine.

Three data sources read it (settings in brackets, defaults after them):

- ``grammar_text``: the sentences as one character stream for a character-level
  language model, exactly like the ``text`` file source (task
  ``"language_model"``, ``class_names`` the characters, ``y`` the window shifted
  by one). Settings: ``n`` (3000 sentences), ``seq_len`` (the Input node's
  length, else 64), ``stride`` (1, characters between window starts), ``noise``
  (0.1).
- ``labelled_sentences``: topic classification for FastText. Each sentence
  becomes its hashed features: the words, the word bigrams (``word_ngrams``, 2;
  1 = words only) and the character n-grams of ``<word>`` (``char_ngrams``, 3;
  0 = none), each hashed with CRC-32 to ``1 + crc32(feature) % buckets``.
  **Id 0 is reserved for padding**: a row holds the first ``length`` features
  and is padded with 0s to ``length`` (the Input node's length, else 64), so the
  EmbeddingBag needs ``num_embeddings = buckets + 1`` and ``padding_idx = 0``
  (padding then adds nothing to the mean). Settings: ``n`` (2000), ``length``,
  ``buckets`` (4096), ``word_ngrams``, ``char_ngrams``, ``noise`` (0.15).
  Classes: the four topics.
- ``word_pairs``: word2vec training rows (task ``"word_embedding"``) over the
  sentences as one stream of words (``.`` ends a sentence and is a word).
  Each row is ``[target, negative_1 .. negative_K, input_1 .. input_W]``:
  in ``mode`` "skipgram" the input is one centre word and the target one word
  within ``window`` of it (one row per pair, W = 1); in ``mode`` "cbow" the
  inputs are the 2·``window`` words around a centre and the target is the
  centre (W = 2·window). The K = ``negatives`` negatives are drawn once, from
  the unigram distribution raised to 0.75 (Mikolov et al. 2013). ``y`` is 0
  (unused). ``class_names`` is the vocabulary, most frequent word first.
  Settings: ``n`` (2000 sentences), ``window`` (2), ``negatives`` (5),
  ``mode`` ("skipgram"), ``noise`` (0.1). The Input shape must be
  ``[1 + negatives + W]``.

`TOPICS` and `word_topic` are public so that benchmarks can check whether
learned word vectors group the words of one topic together.
"""

from __future__ import annotations

import random
import zlib
from collections import Counter
from pathlib import Path

import torch

from studio.data import settings as s
from studio.data.base import RawData
from studio.errors import DataError

TOPICS: dict[str, dict[str, list[str]]] = {
    "animals": {"noun": ["cat", "dog", "horse", "bird", "fox", "rabbit", "cow", "sheep"],
                "verb": ["runs", "sleeps", "jumps", "hides", "hunts", "grazes"],
                "adj": ["furry", "small", "wild", "lazy", "shy"],
                "place": ["farm", "forest", "field", "barn"]},
    "food": {"noun": ["bread", "soup", "cheese", "apple", "cake", "pie", "rice", "salad"],
             "verb": ["bakes", "cools", "melts", "steams", "ripens", "simmers"],
             "adj": ["fresh", "sweet", "hot", "salty", "crisp"],
             "place": ["kitchen", "oven", "market", "table"]},
    "weather": {"noun": ["rain", "wind", "storm", "cloud", "snow", "sun", "fog", "thunder"],
                "verb": ["falls", "blows", "gathers", "clears", "drifts", "roars"],
                "adj": ["cold", "grey", "heavy", "warm", "dark"],
                "place": ["valley", "sky", "coast", "hills"]},
    "sport": {"noun": ["player", "team", "ball", "coach", "runner", "keeper", "striker", "referee"],
              "verb": ["scores", "wins", "kicks", "trains", "passes", "throws"],
              "adj": ["fast", "strong", "tired", "proud", "young"],
              "place": ["stadium", "court", "pitch", "gym"]},
}
TOPIC_NAMES = list(TOPICS)

# Templates: words in braces are content words of the sentence's topic.
TEMPLATES = (
    "the {adj} {noun} {verb} in the {place}",
    "a {noun} {verb} near the {adj} {noun}",
    "the {noun} and the {noun} {verb} today",
    "every {noun} is very {adj}",
    "the {noun} {verb} again",
    "in the {place} a {adj} {noun} {verb}",
    "the {place} is {adj} and the {noun} {verb}",
)


def all_words() -> list[str]:
    """Every word a sentence can hold, ``.`` included (sorted): the most a vocabulary holds."""
    words = {w for template in TEMPLATES for w in template.split() if not w.startswith("{")}
    words |= set(word_topic()) | {"."}
    return sorted(words)


def alphabet() -> list[str]:
    """Every character of the ``grammar_text`` stream (sorted): its vocabulary, whatever ``n``."""
    return sorted(set("".join(all_words())) | {" ", "\n"})


def word_topic() -> dict[str, str]:
    """Each content word -> its topic."""
    return {w: t for t, kinds in TOPICS.items() for words in kinds.values() for w in words}


def sentences(n: int, seed: int = 0, noise: float = 0.1) -> list[tuple[list[str], int]]:
    """``n`` sentences as (words, topic index), the same for the same arguments."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        topic = rng.randrange(len(TOPIC_NAMES))
        template = rng.choice(TEMPLATES)
        words = []
        for part in template.split():
            if part.startswith("{"):
                kind = part[1:-1]
                source = topic if rng.random() >= noise else rng.randrange(len(TOPIC_NAMES))
                part = rng.choice(TOPICS[TOPIC_NAMES[source]][kind])
            words.append(part)
        out.append((words, topic))
    return out


def _common(settings: dict, n_default: int, noise_default: float):
    seed = s.number(settings, "seed", 0, lo=0, integer=True)
    n = s.number(settings, "n", n_default, lo=2, integer=True)
    noise = s.number(settings, "noise", noise_default, lo=0.0, hi=1.0)
    return sentences(n, seed, noise)


def _length(settings: dict, key: str, input_shape, default: int, source: str) -> int:
    default = input_shape[0] if input_shape is not None and len(input_shape) == 1 else default
    length = s.number(settings, key, default, lo=1, integer=True)
    if input_shape is not None and tuple(input_shape) != (length,):
        raise DataError(f"data source '{source}': rows of {key} {length} do not fit the Input node's shape "
                        f"{tuple(input_shape)}; set the Input shape to [{length}] or '{key}' to match")
    return length


# --- character stream for a language model ------------------------------------------

def load_grammar_text(settings: dict, root: Path, input_shape) -> RawData:
    """The sentences as one character stream (one sentence a line)."""
    seq_len = _length(settings, "seq_len", input_shape, 64, "grammar_text")
    stride = s.number(settings, "stride", 1, lo=1, integer=True)
    text = "".join(" ".join(words) + ".\n" for words, _ in _common(settings, 3000, 0.1))
    vocabulary = alphabet()
    index = {c: i for i, c in enumerate(vocabulary)}
    stream = torch.tensor([index[c] for c in text], dtype=torch.long)
    return RawData(stream, None, "stream", "language_model", vocabulary, window=seq_len, stride=stride)


# --- hashed n-gram features for FastText ------------------------------------------

def features(words: list[str], word_ngrams: int = 2, char_ngrams: int = 3) -> list[str]:
    """FastText's features of a sentence: words, word n-grams, character n-grams of ``<word>``."""
    out = list(words)
    for k in range(2, word_ngrams + 1):
        out += [" ".join(words[i:i + k]) for i in range(len(words) - k + 1)]
    if char_ngrams:
        for w in words:
            marked = f"<{w}>"
            out += [marked[i:i + char_ngrams] for i in range(len(marked) - char_ngrams + 1)]
    return out


def hash_ids(feats: list[str], buckets: int, length: int) -> list[int]:
    """Ids ``1 + crc32 % buckets`` of the first ``length`` features, padded with 0 (the padding id)."""
    ids = [1 + zlib.crc32(f.encode("utf-8")) % buckets for f in feats[:length]]
    return ids + [0] * (length - len(ids))


def load_labelled_sentences(settings: dict, root: Path, input_shape) -> RawData:
    """Topic-labelled sentences as fixed-length rows of hashed feature ids (0 pads)."""
    length = _length(settings, "length", input_shape, 64, "labelled_sentences")
    buckets = s.number(settings, "buckets", 4096, lo=1, integer=True)
    word_ngrams = s.number(settings, "word_ngrams", 2, lo=1, hi=5, integer=True)
    char_ngrams = s.number(settings, "char_ngrams", 3, lo=0, hi=8, integer=True)
    rows, labels = [], []
    for words, topic in _common(settings, 2000, 0.15):
        rows.append(hash_ids(features(words, word_ngrams, char_ngrams), buckets, length))
        labels.append(topic)
    return RawData(torch.tensor(rows, dtype=torch.long), torch.tensor(labels, dtype=torch.long),
                   "tokens", "classification", list(TOPIC_NAMES))


# --- word2vec rows -------------------------------------------------------------------

def load_word_pairs(settings: dict, root: Path, input_shape) -> RawData:
    """Skip-gram or CBOW rows ``[target, negatives..., inputs...]`` over the word stream."""
    window = s.number(settings, "window", 2, lo=1, hi=20, integer=True)
    k = s.number(settings, "negatives", 5, lo=1, hi=100, integer=True)
    mode = s.text(settings, "mode", "skipgram", choices=("skipgram", "cbow"))
    width = 1 + k + (1 if mode == "skipgram" else 2 * window)
    if input_shape is not None and tuple(input_shape) != (width,):
        raise DataError(f"data source 'word_pairs': {mode} rows with {k} negatives and window {window} have "
                        f"{width} ids ([target, {k} negatives, {'centre' if mode == 'skipgram' else f'{2 * window} context words'}]) "
                        f"but the Input node expects {tuple(input_shape)}; set the Input shape to [{width}]")
    words = [w for sentence, _ in _common(settings, 2000, 0.1) for w in sentence + ["."]]
    counts = Counter(words)
    vocabulary = sorted(counts, key=lambda w: (-counts[w], w))
    index = {w: i for i, w in enumerate(vocabulary)}
    stream = torch.tensor([index[w] for w in words], dtype=torch.long)
    offsets = torch.tensor([o for o in range(-window, window + 1) if o])
    centres = torch.arange(window, len(stream) - window)
    around = stream[centres[:, None] + offsets]                      # (N, 2·window)
    if mode == "skipgram":
        inputs = stream[centres].repeat_interleave(len(offsets))[:, None]
        targets = around.reshape(-1, 1)
    else:
        inputs, targets = around, stream[centres][:, None]
    seed = s.number(settings, "seed", 0, lo=0, integer=True)
    rng = torch.Generator().manual_seed(seed)
    freq = torch.tensor([counts[w] for w in vocabulary], dtype=torch.float64) ** 0.75
    negatives = torch.multinomial(freq, len(targets) * k, replacement=True, generator=rng).view(-1, k)
    rows = torch.cat([targets, negatives, inputs], dim=1)
    return RawData(rows, torch.zeros(len(rows), dtype=torch.long), "tokens", "word_embedding", vocabulary)
