"""Greedy decoding and beam search for an encoder-decoder network.

The network is called as ``model(source, target_in) -> logits`` with
``source`` (N, S) ids, ``target_in`` (N, T) ids (`BOS` first) and logits
(N, T, V); the logits at position t may depend only on ``target_in[:, :t+1]``
(an LSTM decoder or a causal Transformer decoder). Step t feeds the network
that prefix alone and reads the logits at its last position; a network that
refuses a shorter target (one built for a fixed target length) is fed the
full length instead, `PAD` beyond the tokens decoded so far. Each step runs
only the rows (hypotheses) still decoding, so a batch gets cheaper as its
rows end, and decoding a whole validation set in one batch costs no more
steps than its longest row.

Both functions return (N, T) ids: the decoded tokens, `EOS` included, then
`PAD`. With ``width`` 1 and any length penalty, `beam_search` picks exactly
what `greedy` picks.

Length penalty (Wu et al. 2016, GNMT): a finished hypothesis of ``length``
tokens is ranked by ``log p / ((5 + length) / 6) ** alpha``; alpha 0 ranks
by log-probability alone, larger alpha favours longer outputs.
"""

from __future__ import annotations

import torch

from studio.data.transduction import BOS, EOS, PAD


def _start(source: torch.Tensor, length: int) -> torch.Tensor:
    target = torch.full((len(source), length), PAD, dtype=torch.long, device=source.device)
    target[:, 0] = BOS
    return target


class _Steps:
    """The logits at step t of the rows asked for: the shortest target prefix the network takes."""

    def __init__(self, model, source: torch.Tensor, length: int):
        self.model, self.source, self.length = model, source, length
        self.prefix = True

    def __call__(self, target_in: torch.Tensor, rows: torch.Tensor, t: int) -> torch.Tensor:
        """(len(rows), V) float logits at position ``t`` for ``rows`` of ``target_in``."""
        source = self.source[rows]
        if self.prefix and t + 1 < self.length:
            try:
                return self.model(source, target_in[rows, :t + 1])[:, t].float()
            except (RuntimeError, ValueError, IndexError):
                self.prefix = False  # sized for one target length (a Flatten, a Reshape): give it that length
        return self.model(source, target_in[rows])[:, t].float()


@torch.no_grad()
def greedy(model, source: torch.Tensor, length: int) -> torch.Tensor:
    """The most likely token at each step, ``length`` steps or until every row has ended."""
    target_in = _start(source, length)
    out = torch.full_like(target_in, PAD)
    done = torch.zeros(len(source), dtype=torch.bool, device=source.device)
    step = _Steps(model, source, length)
    for t in range(length):
        live = (~done).nonzero().squeeze(1)
        if not len(live):
            break
        token = step(target_in, live, t).argmax(-1)
        out[live, t] = token
        done[live] = token == EOS
        if t + 1 < length:
            target_in[live, t + 1] = token
    return out


def length_penalty(length: torch.Tensor, alpha: float) -> torch.Tensor:
    """GNMT's ((5 + length) / 6) ** alpha."""
    return ((5.0 + length.float()) / 6.0) ** alpha


@torch.no_grad()
def beam_search(model, source: torch.Tensor, length: int, width: int = 4, alpha: float = 0.0) -> torch.Tensor:
    """The best of ``width`` hypotheses kept per row, ranked at the end with the length penalty."""
    n, k, device = len(source), width, source.device
    src = source.repeat_interleave(k, 0)                                   # (N·K, S)
    target_in = _start(src, length)
    out = torch.full((n * k, length), PAD, dtype=torch.long, device=device)
    scores = torch.full((n, k), float("-inf"), device=device)
    scores[:, 0] = 0.0                                                     # one live hypothesis to start
    done = torch.zeros(n * k, dtype=torch.bool, device=device)
    lengths = torch.zeros(n * k, dtype=torch.long, device=device)
    step = _Steps(model, src, length)
    for t in range(length):
        # Only hypotheses still decoding need the network: a finished one extends only by PAD, at no
        # cost, and one scored -inf (the copies of the start) cannot be among the best.
        live = (~done & scores.reshape(-1).isfinite()).nonzero().squeeze(1)
        if not len(live):
            break
        part = torch.log_softmax(step(target_in, live, t), -1)           # (live, V)
        v = part.shape[-1]
        logp = torch.full((n * k, v), float("-inf"), device=device)
        logp[:, PAD] = 0.0
        logp[live] = part
        total = (scores.reshape(-1, 1) + logp).reshape(n, k * v)
        scores, flat = total.topk(k, dim=1)                                 # (N, K)
        parent = (flat // v + torch.arange(n, device=device)[:, None] * k).reshape(-1)
        token = (flat % v).reshape(-1)
        out, target_in = out[parent], target_in[parent]
        done, lengths = done[parent], lengths[parent]
        out[:, t] = token
        lengths = lengths + (~done).long()
        done = done | (token == EOS)
        if t + 1 < length:
            target_in[:, t + 1] = token
    ranked = scores / length_penalty(lengths, alpha).reshape(n, k)
    best = ranked.argmax(1) + torch.arange(n, device=device) * k
    return out[best]


def trim(ids: list[int]) -> list[int]:
    """The tokens up to and including the first EOS (all of them when there is none), PAD dropped."""
    out = []
    for i in ids:
        if i == PAD:
            continue
        out.append(i)
        if i == EOS:
            break
    return out


def exact_matches(predicted: torch.Tensor, target: torch.Tensor) -> int:
    """How many rows of ``predicted`` equal ``target`` up to and including EOS."""
    return sum(trim(p) == trim(t) for p, t in zip(predicted.tolist(), target.tolist()))
