"""Attention presets: an LSTM encoder-decoder with additive attention, the Transformer, a self-attention
classifier and a small BERT.

Loaded by `build.py` (its `all_presets`), which writes every preset listed in
`PRESETS`. All train on data generated from a seed: the encoder-decoders on
the ``transduction`` source (reverse a digit string), the classifier on the
``sequences`` task, BERT on the grammar sentences of ``masked_text``.
`transformer(size="standard")` gives the paper's base size (d_model 512, 8
heads, 6 + 6 layers, feed-forward 2048), whose parameter count equals
``torch.nn.Transformer()`` plus its two embeddings and output projection.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build import Builder, block, new_project  # noqa: E402

from studio.data import transduction  # noqa: E402

SRC_LEN = 10
TGT_LEN = SRC_LEN + 1
VOCAB = len(transduction.TOKENS)
REVERSE = {"source": "transduction", "n": 4000, "length": SRC_LEN, "task": "reverse", "val_split": 0.1, "seed": 0}


def seq2seq_attention():
    p = new_project("seq2seq_attention", "Encoder-decoder LSTM with additive attention",
                    "Bahdanau et al. 2014: the decoder attends over every encoder state; here it reverses digit strings.",
                    "An encoder LSTM reads the source; a decoder LSTM reads the target so far (teacher forcing: the "
                    "target shifted right behind a start token) and, at every step, scores each encoder state with "
                    "additive attention, vᵀtanh(W·decoder + U·encoder). The softmax of the scores weighs the encoder "
                    "states into a context vector that joins the decoder state to predict the next token, so no "
                    "single vector has to hold the whole source. The attention weights form a heat map of which "
                    "source token each output looked at: for reversal, an anti-diagonal.",
                    [SRC_LEN], REVERSE,
                    {"recipe": "seq2seq", "optimizer": "adam", "lr": 0.003, "epochs": 10, "batch_size": 64,
                     "grad_clip": 1.0, "beam_width": 1},
                    task="seq2seq")
    b = Builder(p.add_network("main"))
    b.add("Input", "source", {"shape": [SRC_LEN], "dtype": "long"})
    b.add("Embedding", "src_embed", {"num_embeddings": VOCAB, "embedding_dim": 32})
    enc = b.add("LSTM", "encoder", {"hidden_size": 64, "bidirectional": True, "output": "sequence"})
    b.last = None  # the decoder row starts at the second Input
    b.add("Input", "target_in", {"shape": [TGT_LEN], "dtype": "long"}, row=1, col=0)
    b.add("Embedding", "tgt_embed", {"num_embeddings": VOCAB, "embedding_dim": 32}, src="target_in", row=1)
    dec = b.add("LSTM", "decoder", {"hidden_size": 128, "output": "sequence"}, row=1)
    att = b.add("AdditiveAttention", "attention", {"hidden_size": 64}, src=dec, row=1)
    b.wire(enc, att, "keys")
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


def transformer(size: str = "small"):
    d, heads, layers, ff, dropout = SIZES[size]
    p = new_project("transformer", "Transformer (encoder-decoder)",
                    "Vaswani et al. 2017: attention is all you need; here it reverses digit strings.",
                    "The Transformer drops recurrence: the encoder is a stack of self-attention and feed-forward "
                    "layers over the embedded source plus a sinusoidal position code; the decoder stack attends "
                    "causally to the target so far and to the encoder's output. It decodes greedily or with beam "
                    "search (training settings beam_width and length_penalty). This preset trains a small size "
                    "(d_model 64, 4 heads, 2 + 2 layers); the paper's base size is d_model 512, 8 heads, 6 + 6 "
                    "layers, feed-forward 2048, the defaults of torch.nn.Transformer.",
                    [SRC_LEN], REVERSE,
                    {"recipe": "seq2seq", "optimizer": "adam", "lr": 0.001, "epochs": 10, "batch_size": 64,
                     "grad_clip": 1.0, "beam_width": 3, "length_penalty": 0.6},
                    task="seq2seq")
    enc = block(p, "encoder_layer", {"heads": heads, "ff": ff, "dropout": dropout},
                "One Transformer encoder layer: self-attention and feed-forward, each with a residual.")
    enc.add("Input", "x", {"shape": [SRC_LEN, d]})
    enc.add("TransformerEncoderLayer", "layer", {"nhead": "$heads", "dim_feedforward": "$ff",
                                                  "dropout": "$dropout"})
    enc.add("Output", "y")
    b = Builder(p.add_network("main"))
    b.add("Input", "source", {"shape": [SRC_LEN], "dtype": "long"})
    b.add("Embedding", "src_embed", {"num_embeddings": VOCAB, "embedding_dim": d})
    b.add("PositionalEncoding", "src_position", {"max_len": 64, "dropout": dropout})
    b.add("Block", "encoder", {"block": "encoder_layer", "repeat": layers, "heads": heads, "ff": ff,
                               "dropout": dropout})
    memory = b.add("LayerNorm", "encoder_norm")
    b.last = None  # the decoder row starts at the second Input
    b.add("Input", "target_in", {"shape": [TGT_LEN], "dtype": "long"}, row=1, col=0)
    b.add("Embedding", "tgt_embed", {"num_embeddings": VOCAB, "embedding_dim": d}, src="target_in", row=1)
    b.add("PositionalEncoding", "tgt_position", {"max_len": 64, "dropout": dropout}, row=1)
    for i in range(1, layers + 1):
        layer = b.add("TransformerDecoderLayer", f"decoder{i}", {"nhead": heads, "dim_feedforward": ff,
                                                                  "dropout": dropout}, row=1)
        b.wire(memory, layer, "memory")
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
