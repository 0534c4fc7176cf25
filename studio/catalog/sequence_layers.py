"""The sequence layers: embeddings, recurrent layers, attention and Transformer layers.

Three tables `layers.SPECS` places in palette order: `EMBEDDING`,
`RECURRENT`, `ATTENTION`.
"""

from __future__ import annotations

import torch
from torch import nn

from studio.catalog import modules as sm
from studio.catalog.spec import LayerSpec
from studio.catalog.table_helpers import P, inferred, last_dim


def _recurrent(cell: str) -> LayerSpec:
    params = (inferred("input_size", last_dim, "features per time step"),
              P("hidden_size", "int", 64, "features of the hidden state", min=1, max=65536),
              P("num_layers", "int", 1, "stacked layers", min=1, max=64),
              P("bidirectional", "bool", False, "also run the sequence backwards"),
              P("dropout", "float", 0.0, "dropout between stacked layers", min=0.0, max=1.0),
              P("output", "choice", "sequence", "what the node returns",
                choices=("sequence", "last", "hidden")))
    if cell == "LSTM":
        return LayerSpec("LSTM", "Recurrent", "Long short-term memory over a (L, features) sequence.",
                         params, module=sm.LSTMLayer, rank=3)
    return LayerSpec(cell, "Recurrent", f"{'Gated recurrent unit' if cell == 'GRU' else 'Elman RNN'} over a (L, features) sequence.",
                     params, build=lambda kw, cell=cell: (sm.Recurrent, {"cell": cell, **kw}), rank=3)


_P_ATT = (P("dropout", "float", 0.0, "dropout on attention weights", min=0.0, max=1.0),)
# Off by default, so networks without padding keep their ports and their modules' state_dict keys.
_P_MASK = P("mask_padding", "bool", False,
            "ignore padded keys: adds an input 'padding_mask' for a PaddingMask node's output")


def _masked(*ports: str):
    """Input ports: ``ports``, then 'padding_mask' when the node's mask_padding is on."""
    return lambda params: ports + (("padding_mask",) if params.get("mask_padding") else ())


def _encoder_layer(kw: dict) -> tuple[type, dict]:
    """torch's layer as it is; its wrapper when it is causal or takes a key padding mask."""
    kw = dict(kw)
    if kw.pop("mask_padding", False) or kw["causal"]:
        return sm.EncoderLayer, kw
    del kw["causal"]
    return nn.TransformerEncoderLayer, {**kw, "batch_first": True}


_P_TRANSFORMER = (inferred("d_model", last_dim, "features per position"),
                  P("nhead", "int", 8, "attention heads (must divide d_model)", min=1, max=256),
                  P("dim_feedforward", "int", 2048, "width of the feed-forward block", min=1, max=1_000_000),
                  P("dropout", "float", 0.1, "dropout", min=0.0, max=1.0),
                  P("activation", "choice", "relu", "feed-forward activation", choices=("relu", "gelu")),
                  P("norm_first", "bool", False, "pre-norm (more stable) instead of post-norm"))


EMBEDDING: tuple[LayerSpec, ...] = (
    LayerSpec("Embedding", "Embedding", "Looks up a learned vector for each integer id.",
              (P("num_embeddings", "int", 1000, "vocabulary size", min=1, max=10_000_000),
               P("embedding_dim", "int", 64, "vector size", min=1, max=65536),
               P("padding_idx", "optional_int", None, "an id whose vector stays zero")),
              module=nn.Embedding, dtype="long"),
    LayerSpec("EmbeddingBag", "Embedding", "Sums or averages the vectors of each row of ids (FastText).",
              (P("num_embeddings", "int", 1000, "vocabulary size", min=1, max=10_000_000),
               P("embedding_dim", "int", 64, "vector size", min=1, max=65536),
               P("mode", "choice", "mean", "how a bag is reduced", choices=("mean", "sum", "max")),
               P("padding_idx", "optional_int", None, "an id that pads a row: left out of the bag")),
              module=nn.EmbeddingBag, dtype="long", rank=2),
)

RECURRENT: tuple[LayerSpec, ...] = (
    _recurrent("RNN"), _recurrent("LSTM"), _recurrent("GRU"),
)

ATTENTION: tuple[LayerSpec, ...] = (
    LayerSpec("MultiheadAttention", "Attention", "Multi-head attention; key and value default to the query (self-attention).",
              (inferred("embed_dim", last_dim, "features of the query"),
               P("num_heads", "int", 4, "heads (must divide the features)", min=1, max=256),
               *_P_ATT, P("bias", "bool", True, "learn biases"),
               P("causal", "bool", False, "each position sees only earlier ones"), _P_MASK),
              inputs=_masked("query", "key", "value"), optional=("key", "value"),
              fallback={"key": "query", "value": "key"}, module=sm.Attention, rank=3, exclude=("mask_padding",)),
    LayerSpec("ScaledDotProductAttention", "Attention", "softmax(QKᵀ/√d)·V with no weights of its own.",
              (P("causal", "bool", False, "each position sees only earlier ones"), *_P_ATT),
              inputs=("query", "key", "value"), optional=("key", "value"),
              fallback={"key": "query", "value": "key"}, module=sm.ScaledDotProductAttention),
    LayerSpec("AdditiveAttention", "Attention", "Bahdanau attention: each query scores the keys by vᵀtanh(W·q + U·k).",
              (inferred("query_size", last_dim, "features of the query"),
               inferred("key_size", lambda shapes: shapes[1][-1], "features of the keys"),
               P("hidden_size", "int", 64, "size of the scoring layer", min=1, max=65536), _P_MASK),
              inputs=_masked("query", "keys"), outputs=("context", "weights"), module=sm.AdditiveAttention, rank=3,
              exclude=("mask_padding",)),
    LayerSpec("TransformerEncoderLayer", "Attention", "Self-attention and a feed-forward block, each with a residual.",
              (*_P_TRANSFORMER, P("causal", "bool", False, "each position sees only earlier ones (GPT)"), _P_MASK),
              inputs=_masked("in"), build=_encoder_layer, rank=3),
    LayerSpec("TransformerDecoderLayer", "Attention", "Causal self-attention, attention to the encoder memory, feed-forward.",
              (*_P_TRANSFORMER, P("causal", "bool", True, "each target position sees only earlier ones"), _P_MASK),
              inputs=_masked("tgt", "memory"), module=sm.DecoderLayer, rank=3, exclude=("mask_padding",)),
    LayerSpec("PaddingMask", "Attention", "True where a row of token ids holds the padding id: what attention ignores.",
              (P("pad_index", "int", 0, "the id that pads a row", min=0, max=10_000_000),),
              inputs=("tokens",), function=torch.eq, call_kwargs=lambda p: {"other": p["pad_index"]}, dtype="long"),
    LayerSpec("PositionalEncoding", "Attention", "Adds position information to a (L, features) sequence.",
              (inferred("d_model", last_dim, "features per position"),
               P("kind", "choice", "sinusoidal", "fixed sine/cosine or learned", choices=("sinusoidal", "learned")),
               P("max_len", "int", 512, "longest sequence", min=1, max=1_000_000),
               P("dropout", "float", 0.0, "dropout after adding", min=0.0, max=1.0)),
              build=lambda kw: (sm.LearnedPositionalEncoding if kw["kind"] == "learned" else sm.SinusoidalPositionalEncoding,
                                {k: v for k, v in kw.items() if k != "kind"}), rank=3),
    LayerSpec("ClassToken", "Attention", "Puts a learned vector before the sequence: (L, d) → (L + 1, d), as ViT does.",
              (inferred("d_model", last_dim, "features per position"),), module=sm.ClassToken, rank=3),
)
