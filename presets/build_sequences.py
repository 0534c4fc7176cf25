"""Sequence and text presets: recurrent classifiers, a character language model, word2vec, FastText.

Loaded by `build.py` (its `all_presets`), which writes every preset listed in
`PRESETS`. Every one trains on data generated from a seed, so nothing is
downloaded: the recurrent classifiers on the ``sequences`` task (more 7s than
3s?), the others on sentences of the small grammar in `studio.data.grammar`.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build import Builder, new_project  # noqa: E402

from studio.data import grammar  # noqa: E402

SEQ_LEN = 20
SEQUENCES = {"source": "sequences", "n": 2000, "length": SEQ_LEN, "vocab": 10, "val_split": 0.2, "seed": 0}

RECURRENT = {
    "RNN": ("rnn_classifier", "Elman RNN classifier",
            "Elman 1990: a recurrent layer carries a hidden state along the sequence; its last state classifies it.",
            "Elman's simple recurrent network feeds its hidden state back into itself at every step, so what it "
            "read earlier shapes how it reads what comes next: the first neural network with a memory of "
            "arbitrary length. Gradients through many steps vanish or explode, which limits how far back it "
            "remembers. Here it counts 7s against 3s over 20 tokens.", "hidden"),
    "LSTM": ("lstm_classifier", "LSTM classifier",
             "Hochreiter & Schmidhuber 1997: gated memory cells read the sequence; the last step classifies it.",
             "The long short-term memory adds a cell state that flows through time changed only by gates that "
             "learn what to forget, what to write and what to show, so gradients survive hundreds of steps. "
             "It made recurrent networks work in practice for speech, handwriting and translation.", "last"),
    "GRU": ("gru_classifier", "GRU classifier",
            "Cho et al. 2014: a gated recurrent unit reads the sequence; its final hidden state classifies it.",
            "The gated recurrent unit merges the LSTM's forget and input gates into one update gate and drops "
            "the separate cell state: fewer parameters and often the same accuracy. It came with the "
            "encoder-decoder models that started neural machine translation.", "hidden"),
}


def recurrent_classifier(cell: str):
    name, title, description, about, output = RECURRENT[cell]
    p = new_project(name, title, description, about, [SEQ_LEN], SEQUENCES,
                    {"loss": "cross_entropy", "optimizer": "adam", "lr": 0.003, "epochs": 15, "batch_size": 64,
                     "grad_clip": 1.0})
    b = Builder(p.add_network("main"))
    b.add("Input", "tokens", {"shape": [SEQ_LEN], "dtype": "long"})
    b.add("Embedding", "embed", {"num_embeddings": 10, "embedding_dim": 16})
    b.add(cell, cell.lower(), {"hidden_size": 64, "output": output})
    b.add("Linear", "fc", {"out_features": 2})
    b.add("Output", "logits")
    return p


LM_WINDOW = 64


def lstm_lm():
    chars = len(grammar.alphabet())
    p = new_project("lstm_lm", "Character-level LSTM language model",
                    "An LSTM reads text a character at a time and predicts the next one; it writes new text by sampling.",
                    "Character-level recurrent language models (Sutskever et al. 2011, Karpathy's char-rnn 2015) "
                    "showed that one network predicting the next character learns spelling, words and some grammar "
                    "from raw text alone, and generates text by sampling one character after another. Trained here on "
                    "sentences from a small probabilistic grammar; perplexity is the figure to watch.",
                    [LM_WINDOW],
                    {"source": "grammar_text", "n": 3000, "seq_len": LM_WINDOW, "stride": 8, "val_split": 0.1,
                     "seed": 0},
                    {"recipe": "language_model", "optimizer": "adam", "lr": 0.003, "epochs": 8, "batch_size": 64,
                     "grad_clip": 1.0, "sample_prompt": "the ", "sample_length": 160, "temperature": 0.8},
                    task="language_model")
    b = Builder(p.add_network("main"))
    b.add("Input", "chars", {"shape": [LM_WINDOW], "dtype": "long"})
    b.add("Embedding", "embed", {"num_embeddings": chars, "embedding_dim": 32})
    b.add("LSTM", "lstm", {"hidden_size": 128, "output": "sequence"})
    b.add("Linear", "next_char", {"out_features": chars})
    b.add("Output", "logits")
    return p


NEGATIVES = 5


def word2vec():
    words = len(grammar.all_words())
    p = new_project("word2vec", "word2vec (skip-gram, negative sampling)",
                    "Mikolov et al. 2013: word vectors trained to tell a word's real neighbours from random words.",
                    "word2vec learns a vector per word by asking it to predict the words around it (skip-gram) or a word "
                    "from those around it (CBOW, data setting mode: cbow, Input shape [1 + negatives + 2·window]), "
                    "scoring the true word against a few random 'negative' words instead of a softmax over the whole "
                    "vocabulary. Words used alike end up close: the first embeddings that made analogies arithmetic.",
                    [2 + NEGATIVES],
                    {"source": "word_pairs", "n": 2000, "window": 2, "negatives": NEGATIVES, "mode": "skipgram",
                     "val_split": 0.1, "seed": 0},
                    {"recipe": "skipgram", "optimizer": "adam", "lr": 0.01, "epochs": 5, "batch_size": 256,
                     "probe_words": ["cat", "soup", "rain", "player", "forest", "sweet", "blows", "stadium"]},
                    task="word_embedding")
    b = Builder(p.add_network("main"))
    row = b.add("Input", "row", {"shape": [2 + NEGATIVES], "dtype": "long"})
    b.add("Slice", "targets", {"dim": 1, "start": 0, "end": 1 + NEGATIVES}, row=0)
    out = b.add("Embedding", "out_embed", {"num_embeddings": words, "embedding_dim": 32}, row=0)
    b.add("Slice", "inputs", {"dim": 1, "start": 1 + NEGATIVES, "end": None}, src=row, row=1, col=1)
    b.add("Embedding", "in_embed", {"num_embeddings": words, "embedding_dim": 32}, row=1)
    b.add("Mean", "average", {"dim": 1, "keepdim": True}, row=1)
    vec = b.add("Transpose", "as_column", {"dim0": 1, "dim1": 2}, row=1)
    dot = b.add("MatMul", "dot", src=out, row=0, col=5)
    b.wire(vec, dot, "b")
    b.add("Squeeze", "squeeze", {"dim": -1})
    b.add("Output", "scores")
    return p


FT_LENGTH = 64
FT_BUCKETS = 4096


def fasttext():
    p = new_project("fasttext", "FastText classifier",
                    "Joulin et al. 2016: the mean of word and character n-gram vectors, then one linear layer.",
                    "FastText showed that a bag of word and n-gram vectors, averaged and fed to a linear classifier, "
                    "rivals deep text classifiers while training in seconds. N-grams are hashed into a fixed number "
                    "of buckets, so no vocabulary is stored; character n-grams give unseen words a vector. Id 0 "
                    "pads each row and is left out of the mean (padding_idx 0).",
                    [FT_LENGTH],
                    {"source": "labelled_sentences", "n": 2000, "length": FT_LENGTH, "buckets": FT_BUCKETS,
                     "word_ngrams": 2, "char_ngrams": 3, "val_split": 0.2, "seed": 0},
                    {"loss": "cross_entropy", "optimizer": "adam", "lr": 0.005, "epochs": 5, "batch_size": 32})
    b = Builder(p.add_network("main"))
    b.add("Input", "ngram_ids", {"shape": [FT_LENGTH], "dtype": "long"})
    b.add("EmbeddingBag", "bag", {"num_embeddings": FT_BUCKETS + 1, "embedding_dim": 32, "mode": "mean",
                                  "padding_idx": 0})
    b.add("Linear", "fc", {"out_features": len(grammar.TOPIC_NAMES)})
    b.add("Output", "logits")
    return p


PRESETS = [lambda: recurrent_classifier("RNN"), lambda: recurrent_classifier("LSTM"),
           lambda: recurrent_classifier("GRU"), lstm_lm, word2vec, fasttext]
