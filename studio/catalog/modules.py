"""The few torch modules that torch.nn lacks, each small and scriptable.

`studio code` copies the source of the classes it uses into the generated file,
so every class here depends on torch alone, has a plain `__init__` whose
arguments are its constructor keywords, and a TorchScript-compatible forward.
The restricted Boltzmann machine, with its sampling and training loss, is in
`studio.catalog.rbm` (`own_modules` lists both files).
"""

from __future__ import annotations

import math
from typing import List, Optional, Tuple

import torch
from torch import nn


class Reshape(nn.Module):
    """Reshapes each sample to `shape` (the batch dimension is kept)."""

    def __init__(self, shape: List[int]):
        super().__init__()
        self.shape = list(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape([x.shape[0]] + self.shape)


class Permute(nn.Module):
    """Reorders dimensions; `dims` counts the batch as dimension 0."""

    def __init__(self, dims: List[int]):
        super().__init__()
        self.dims = list(dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(self.dims)


class Slice(nn.Module):
    """Keeps indices `start` up to `end` (exclusive, None for the end) along `dim`."""

    def __init__(self, dim: int, start: int, end: Optional[int] = None):
        super().__init__()
        self.dim = dim
        self.start = start
        self.end = end

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[self.dim]
        start = self.start + size if self.start < 0 else self.start
        end = size if self.end is None else self.end
        end = end + size if end < 0 else end
        return x.narrow(self.dim, start, end - start)


class GlobalAvgPool(nn.Module):
    """Averages over every spatial dimension: (N, C, ...) -> (N, C)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(2).mean(-1)


class Recurrent(nn.Module):
    """An RNN or GRU (batch first) that returns the sequence, the last step or the hidden state."""

    def __init__(self, cell: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0, output: str = "sequence"):
        super().__init__()
        kind = nn.GRU if cell == "GRU" else nn.RNN
        self.rnn = kind(input_size, hidden_size, num_layers, batch_first=True,
                        dropout=dropout, bidirectional=bidirectional)
        self.output = output
        self.bidirectional = bidirectional

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, h = self.rnn(x)
        return _pick_output(out, h, self.output, self.bidirectional)


class LSTMLayer(nn.Module):
    """An LSTM (batch first) that returns the sequence, the last step or the hidden state."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0, output: str = "sequence"):
        super().__init__()
        self.rnn = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True,
                           dropout=dropout, bidirectional=bidirectional)
        self.output = output
        self.bidirectional = bidirectional

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, state = self.rnn(x)
        return _pick_output(out, state[0], self.output, self.bidirectional)


def _pick_output(out: torch.Tensor, h: torch.Tensor, output: str, bidirectional: bool) -> torch.Tensor:
    if output == "last":
        return out[:, -1]
    if output == "hidden":
        # h is (layers * directions, N, H); the top layer is last.
        return torch.cat([h[-2], h[-1]], 1) if bidirectional else h[-1]
    return out


def _keys_to_ignore(padding_mask: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
    """A key padding mask (True: ignore) with rows that mask every key let through whole.

    A row with no key left would make the softmax 0/0; attending to its padding
    instead keeps the output finite (an empty source is a sequence of padding).
    """
    if padding_mask is None:
        return None
    return padding_mask & ~padding_mask.all(-1, keepdim=True)


class Attention(nn.Module):
    """Multi-head attention (batch first) on query, key and value; optional causal and key padding masks.

    ``padding_mask`` (N, S), True at key positions to ignore (a PaddingMask node's output).
    """

    def __init__(self, embed_dim: int, num_heads: int = 1, dropout: float = 0.0,
                 bias: bool = True, causal: bool = False):
        super().__init__()
        self.mha = nn.MultiheadAttention(embed_dim, num_heads, dropout=dropout, bias=bias,
                                         batch_first=True)
        self.causal = causal

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                padding_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        mask: Optional[torch.Tensor] = None
        if self.causal:
            n, m = query.shape[1], key.shape[1]
            mask = torch.ones(n, m, dtype=torch.bool, device=query.device).triu(1)
        out, _ = self.mha(query, key, value, attn_mask=mask, key_padding_mask=_keys_to_ignore(padding_mask),
                          need_weights=False)
        return out


class AdditiveAttention(nn.Module):
    """Additive (Bahdanau) attention: score(q, k) = vᵀ tanh(W_q q + W_k k), softmax over the keys.

    ``query`` is (N, T, Dq), ``keys`` (N, S, Dk), the optional ``padding_mask``
    (N, S) True at keys to ignore (their weight is 0); returns the context
    (N, T, Dk), the weighted sum of the keys, and the weights (N, T, S).
    """

    def __init__(self, query_size: int, key_size: int, hidden_size: int = 64):
        super().__init__()
        self.query = nn.Linear(query_size, hidden_size, bias=False)
        self.key = nn.Linear(key_size, hidden_size)
        self.score = nn.Linear(hidden_size, 1, bias=False)

    def forward(self, query: torch.Tensor, keys: torch.Tensor,
                padding_mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        energy = torch.tanh(self.query(query).unsqueeze(2) + self.key(keys).unsqueeze(1))  # (N, T, S, H)
        scores = self.score(energy).squeeze(-1)
        ignore = _keys_to_ignore(padding_mask)
        if ignore is not None:
            scores = scores.masked_fill(ignore.unsqueeze(1), float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        return torch.bmm(weights, keys), weights


class EncoderLayer(nn.Module):
    """A Transformer encoder layer (batch first) whose self-attention can be causal and ignore padded positions.

    ``padding_mask`` (N, S) is True at the positions to ignore as keys (a
    PaddingMask node's output); the outputs at the other positions do not
    depend on what the padded ones hold.
    """

    def __init__(self, d_model: int, nhead: int = 8, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str = "relu", norm_first: bool = False,
                 causal: bool = False):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout,
                                                activation, batch_first=True, norm_first=norm_first)
        self.causal = causal

    def forward(self, src: torch.Tensor, padding_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        mask: Optional[torch.Tensor] = None
        if self.causal:
            n = src.shape[1]
            mask = torch.full((n, n), float("-inf"), device=src.device, dtype=src.dtype).triu(1)
        return self.layer(src, src_mask=mask, src_key_padding_mask=_keys_to_ignore(padding_mask),
                          is_causal=self.causal)


class DecoderLayer(nn.Module):
    """A Transformer decoder layer (batch first) whose self-attention can be causal.

    ``padding_mask`` (N, S), True at the memory positions to ignore (padded source tokens).
    """

    def __init__(self, d_model: int, nhead: int = 8, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str = "relu", norm_first: bool = False,
                 causal: bool = True):
        super().__init__()
        self.layer = nn.TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout,
                                                activation, batch_first=True, norm_first=norm_first)
        self.causal = causal

    def forward(self, tgt: torch.Tensor, memory: torch.Tensor,
                padding_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        mask: Optional[torch.Tensor] = None
        if self.causal:
            n = tgt.shape[1]
            mask = torch.full((n, n), float("-inf"), device=tgt.device, dtype=tgt.dtype).triu(1)
        return self.layer(tgt, memory, tgt_mask=mask, tgt_is_causal=self.causal,
                          memory_key_padding_mask=_keys_to_ignore(padding_mask))


class PadTo(nn.Module):
    """Pads (or crops) every dimension after the channels to the size of ``like``, half before, half after.

    The skip connection of a U-Net: an up-sampled map is padded to the size of
    the encoder's map before the two are joined.
    """

    def forward(self, x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        pad: List[int] = []
        for d in range(x.dim() - 1, 1, -1):  # F.pad takes the last dimension first
            diff = like.shape[d] - x.shape[d]
            pad += [diff // 2, diff - diff // 2]
        return nn.functional.pad(x, pad)


class ResizeTo(nn.Module):
    """Interpolates every dimension after the channels to the size of ``like`` (FPN and U-Net decoders)."""

    def __init__(self, mode: str = "nearest", align_corners: bool = False):
        super().__init__()
        self.mode = mode
        self.align_corners: Optional[bool] = align_corners if mode in ("linear", "bilinear", "bicubic",
                                                                       "trilinear") else None

    def forward(self, x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return nn.functional.interpolate(x, size=like.shape[2:], mode=self.mode, align_corners=self.align_corners)


class Vote(nn.Module):
    """A majority vote of stacked log-probabilities (batch, members, classes), as log vote shares.

    Each class gets the share of members whose top class it is; a tie goes to
    the class with the higher mean probability, which adds less than one vote:
    ``log((votes + mean / 2) / (members + 1/2))``, whose softmax is the share
    (`studio.train.eval_metrics.combine` with ``method="vote"`` computes the same).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top = torch.zeros_like(x).scatter_(-1, x.argmax(-1, keepdim=True), 1.0)
        shares = top.sum(1) + 0.5 * x.exp().mean(1)
        return (shares / (x.shape[1] + 0.5)).log()


class ScalarOp(nn.Module):
    """Combines the input with a constant: x + c, x - c, c - x, x * c, x / c or x ** c (`op`: add ... pow)."""

    def __init__(self, op: str = "mul", value: float = 1.0):
        super().__init__()
        self.op = op
        self.value = value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.op == "add":
            return x + self.value
        if self.op == "sub":
            return x - self.value
        if self.op == "rsub":
            return self.value - x
        if self.op == "div":
            return x / self.value
        if self.op == "pow":
            return x ** self.value
        return x * self.value


class Scale(nn.Module):
    """Multiplies by a learned tensor of `shape` (broadcast; LayerScale's gamma)."""

    def __init__(self, shape: List[int]):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight


class Bias(nn.Module):
    """Adds a learned tensor of `shape` (broadcast; a learned position embedding of fixed length)."""

    def __init__(self, shape: List[int]):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.weight


class ClassToken(nn.Module):
    """Puts a learned vector before a (L, d_model) sequence: (L + 1, d_model), as ViT and BERT pool."""

    def __init__(self, d_model: int):
        super().__init__()
        self.token = nn.Parameter(torch.zeros(1, 1, d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.token.expand(x.shape[0], -1, -1), x], 1)


class SinusoidalPositionalEncoding(nn.Module):
    """Adds the fixed sine/cosine position code of "Attention is all you need"."""

    def __init__(self, d_model: int, max_len: int = 512, dropout: float = 0.0):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        div = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2] = torch.sin(position * div)
        pe[:, 1::2] = torch.cos(position * div)[:, : d_model // 2]
        self.register_buffer("pe", pe, persistent=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(x + self.pe[: x.shape[1]].to(x.dtype))


class LearnedPositionalEncoding(nn.Module):
    """Adds a learned vector per position (as BERT and GPT do)."""

    def __init__(self, d_model: int, max_len: int = 512, dropout: float = 0.0):
        super().__init__()
        self.pe = nn.Parameter(torch.zeros(max_len, d_model))
        nn.init.normal_(self.pe, std=0.02)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(x + self.pe[: x.shape[1]])


class ScaledDotProductAttention(nn.Module):
    """softmax(QK^T / sqrt(d)) V with no weights of its own; optional causal mask."""

    def __init__(self, causal: bool = False, dropout: float = 0.0):
        super().__init__()
        self.causal = causal
        self.dropout = dropout

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        p = self.dropout if self.training else 0.0
        return nn.functional.scaled_dot_product_attention(query, key, value, dropout_p=p,
                                                          is_causal=self.causal)
