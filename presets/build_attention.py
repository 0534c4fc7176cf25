"""Attention presets: an LSTM encoder-decoder with additive attention, the Transformer, a self-attention
classifier and a small BERT.

Loaded by `build.py` (its `all_presets`), which writes every preset listed in
`PRESETS`. All train on data generated from a seed: the encoder-decoders on
the ``transduction`` source (reverse a digit string; ``task="dates"`` builds
them for rewriting dates instead), the classifier on the ``sequences`` task,
BERT on the grammar sentences of ``masked_text``. The encoder-decoders mask
the padding of the source: a PaddingMask node marks it and every attention
over the source ignores it. `transformer(size="standard")` gives the paper's
base size (d_model 512, 8 heads, 6 + 6 layers, feed-forward 2048), whose
parameter count equals ``torch.nn.Transformer()`` plus its two embeddings and
output projection.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build import Builder, block, new_project

from studio.data import transduction

VOCAB = len(transduction.TOKENS)
TASKS = {  # task -> the data settings (source length included) the encoder-decoders train on
    "reverse": {"source": "transduction", "n": 4000, "length": 10, "task": "reverse", "val_split": 0.1, "seed": 0},
    "dates": {"source": "transduction", "n": 4000, "length": 20, "task": "dates", "val_split": 0.1, "seed": 0},
}
TASK_WORDS = {"reverse": "reverses digit strings", "dates": "rewrites dates as yyyy-mm-dd"}
DATES_NOTE = ("The same network rewrites dates written in mixed formats (\"23 march 2021\", \"mar 23, 2021\", "
              "\"23/03/2021\") as \"2021-03-23\": set the data settings task to \"dates\" and length to 20, "
              "and the Inputs' shapes to [20] (source) and [21] (target_in).")


def _source(b: Builder, length: int) -> str:
    """The source Input and the PaddingMask that marks its padding; returns the mask's node id."""
    b.add("Input", "source", {"shape": [length], "dtype": "long"})
    return b.add("PaddingMask", "source_padding", {"pad_index": transduction.PAD}, row=2, col=1)


def seq2seq_attention(task: str = "reverse"):
    data = TASKS[task]
    src_len = data["length"]
    p = new_project("seq2seq_attention", "Encoder-decoder LSTM with additive attention",
                    f"Bahdanau et al. 2014: the decoder attends over every encoder state; here it {TASK_WORDS[task]}.",
                    "An encoder LSTM reads the source; a decoder LSTM reads the target so far (teacher forcing: the "
                    "target shifted right behind a start token) and, at every step, scores each encoder state with "
                    "additive attention, vᵀtanh(W·decoder + U·encoder), ignoring the source's padding. The softmax "
                    "of the scores weighs the encoder states into a context vector that joins the decoder state to "
                    "predict the next token, so no single vector has to hold the whole source. The attention "
                    "weights form a heat map of which source token each output looked at: for reversal, an "
                    "anti-diagonal. " + DATES_NOTE,
                    [src_len], data,
                    {"recipe": "seq2seq", "optimizer": "adam", "lr": 0.003, "epochs": 10, "batch_size": 64,
                     "grad_clip": 1.0, "beam_width": 1},
                    task="seq2seq")
    b = Builder(p.add_network("main"))
    padding = _source(b, src_len)
    b.add("Embedding", "src_embed", {"num_embeddings": VOCAB, "embedding_dim": 32}, src="source", col=1)
    enc = b.add("LSTM", "encoder", {"hidden_size": 64, "bidirectional": True, "output": "sequence"})
    b.last = None  # the decoder row starts at the second Input
    b.add("Input", "target_in", {"shape": [src_len + 1], "dtype": "long"}, row=1, col=0)
    b.add("Embedding", "tgt_embed", {"num_embeddings": VOCAB, "embedding_dim": 32}, src="target_in", row=1)
    dec = b.add("LSTM", "decoder", {"hidden_size": 128, "output": "sequence"}, row=1)
    att = b.add("AdditiveAttention", "attention", {"hidden_size": 64, "mask_padding": True}, src=dec, row=1)
    b.wire(enc, att, "keys")
    b.wire(padding, att, "padding_mask")
    cat = b.add("Concat", "join", {"dim": 2}, src=dec, row=1)
    b.wire(att, cat, "in1", port="context")
    b.add("Linear", "combine", {"out_features": 128}, row=1)
    b.add("Tanh", "tanh", row=1)
    b.add("Linear", "next_token", {"out_features": VOCAB}, row=1)
    b.add("Output", "logits", row=1)
    return p


SIZES = {  # d_model, heads, layers (each stack), feed-forward, dropout
    "small": (64, 4, 2, 128, 0.1),
    "standard": (512, 8, 6, 2048, 0.1),
}


def transformer(size: str = "small", task: str = "reverse"):
    d, heads, layers, ff, dropout = SIZES[size]
    data = TASKS[task]
    src_len = data["length"]
    p = new_project("transformer", "Transformer (encoder-decoder)",
                    f"Vaswani et al. 2017: attention is all you need; here it {TASK_WORDS[task]}.",
                    "The Transformer drops recurrence: the encoder is a stack of self-attention and feed-forward "
                    "layers over the embedded source plus a sinusoidal position code; the decoder stack attends "
                    "causally to the target so far and to the encoder's output. A PaddingMask marks the source's "
                    "padding, which no attention over the source looks at. It decodes greedily or with beam "
                    "search (training settings beam_width and length_penalty). The learning rate warms up for "
                    "an epoch, then follows a cosine down. This preset trains a small size "
                    "(d_model 64, 4 heads, 2 + 2 layers); the paper's base size is d_model 512, 8 heads, 6 + 6 "
                    "layers, feed-forward 2048, the defaults of torch.nn.Transformer. " + DATES_NOTE,
                    [src_len], data,
                    {"recipe": "seq2seq", "optimizer": "adam", "lr": 0.003, "schedule": "cosine", "warmup_epochs": 1,
                     "epochs": 10, "batch_size": 64, "grad_clip": 1.0, "beam_width": 3, "length_penalty": 0.6},
                    task="seq2seq")
    layer = {"nhead": heads, "dim_feedforward": ff, "dropout": dropout, "mask_padding": True}
    b = Builder(p.add_network("main"))
    padding = _source(b, src_len)
    b.add("Embedding", "src_embed", {"num_embeddings": VOCAB, "embedding_dim": d}, src="source", col=1)
    b.add("PositionalEncoding", "src_position", {"max_len": 64, "dropout": dropout})
    for i in range(1, layers + 1):
        b.wire(padding, b.add("TransformerEncoderLayer", f"encoder{i}", layer), "padding_mask")
    memory = b.add("LayerNorm", "encoder_norm")
    b.last = None  # the decoder row starts at the second Input
    b.add("Input", "target_in", {"shape": [src_len + 1], "dtype": "long"}, row=1, col=0)
    b.add("Embedding", "tgt_embed", {"num_embeddings": VOCAB, "embedding_dim": d}, src="target_in", row=1)
    b.add("PositionalEncoding", "tgt_position", {"max_len": 64, "dropout": dropout}, row=1)
    for i in range(1, layers + 1):
        node = b.add("TransformerDecoderLayer", f"decoder{i}", layer, row=1)
        b.wire(memory, node, "memory")
        b.wire(padding, node, "padding_mask")
    b.add("LayerNorm", "decoder_norm", row=1)
    b.add("Linear", "next_token", {"out_features": VOCAB}, row=1)
    b.add("Output", "logits", row=1)
    return p


SEQ_LEN = 20


def self_attention():
    p = new_project("self_attention", "Self-attention classifier",
                    "Multi-head self-attention over token embeddings, averaged and classified: more 7s than 3s?",
                    "Every token looks at every other through four attention heads, each with its own query, key "
                    "and value projections; a residual connection and layer norm follow, then the mean over "
                    "positions is classified. Counting tokens is what attention does well: a head that attends "
                    "to the 7s and 3s sees them all at once, where a recurrent network must carry a count. The "
                    "recipe reports each head's attention map for one example.",
                    [SEQ_LEN], {"source": "sequences", "n": 2000, "length": SEQ_LEN, "vocab": 10, "val_split": 0.2,
                                "seed": 0},
                    {"recipe": "attention_classifier", "loss": "cross_entropy", "optimizer": "adam", "lr": 0.003,
                     "epochs": 10, "batch_size": 64, "grad_clip": 1.0})
    b = Builder(p.add_network("main"))
    b.add("Input", "tokens", {"shape": [SEQ_LEN], "dtype": "long"})
    b.add("Embedding", "embed", {"num_embeddings": 10, "embedding_dim": 32})
    x = b.add("PositionalEncoding", "position", {"kind": "learned", "max_len": SEQ_LEN})
    att = b.add("MultiheadAttention", "attention", {"num_heads": 4})
    res = b.add("Add", "residual", src=att)
    b.wire(x, res, "b")
    b.add("LayerNorm", "norm")
    b.add("Mean", "average", {"dim": 1})
    b.add("Linear", "fc", {"out_features": 2})
    b.add("Output", "logits")
    return p


BERT_LEN = 12


def bert_mini():
    vocab = len(transduction.masked_vocabulary("word"))
    p = new_project("bert_mini", "BERT mini (masked language model)",
                    "Devlin et al. 2018: a Transformer encoder learns language by restoring masked words.",
                    "BERT pre-trains a bidirectional Transformer encoder by hiding 15% of the tokens (80% become "
                    "<mask>, 10% a random word, 10% stay) and predicting them from both sides. Here a two-layer "
                    "encoder (d_model 64, 4 heads, GELU, learned positions) learns the small grammar's sentences; "
                    "masked-token accuracy is the figure to watch.",
                    [BERT_LEN], {"source": "masked_text", "n": 3000, "length": BERT_LEN, "level": "word",
                                 "val_split": 0.1, "seed": 0},
                    {"recipe": "masked_lm", "optimizer": "adamw", "lr": 0.002, "weight_decay": 0.01, "epochs": 10,
                     "batch_size": 64, "grad_clip": 1.0},
                    task="masked_lm")
    enc = block(p, "encoder_layer", {"heads": 4, "ff": 128},
                "One Transformer encoder layer (GELU, pre-norm): self-attention and feed-forward with residuals.")
    enc.add("Input", "x", {"shape": [BERT_LEN, 64]})
    enc.add("TransformerEncoderLayer", "layer", {"nhead": "$heads", "dim_feedforward": "$ff", "dropout": 0.1,
                                                  "activation": "gelu", "norm_first": True})
    enc.add("Output", "y")
    b = Builder(p.add_network("main"))
    b.add("Input", "tokens", {"shape": [BERT_LEN], "dtype": "long"})
    b.add("Embedding", "embed", {"num_embeddings": vocab, "embedding_dim": 64})
    b.add("PositionalEncoding", "position", {"kind": "learned", "max_len": BERT_LEN})
    b.add("Block", "encoder", {"block": "encoder_layer", "repeat": 2})
    b.add("LayerNorm", "norm")
    b.add("Linear", "predict", {"out_features": vocab})
    b.add("Output", "logits")
    return p


PRESETS = [seq2seq_attention, transformer, self_attention, bert_mini]
