"""Greedy decoding and beam search for an encoder-decoder network.

The network is called as ``model(source, target_in) -> logits`` with
``source`` (N, S) ids, ``target_in`` (N, T) ids (`BOS` first) and logits
(N, T, V); the logits at position t may depend only on ``target_in[:, :t+1]``
(an LSTM decoder or a causal Transformer decoder). Decoding keeps
``target_in`` at its full length T, filled with `PAD` beyond the tokens
decoded so far, so a network analysed at a fixed target length decodes too;
step t reads the logits at position t.

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


@torch.no_grad()
def greedy(model, source: torch.Tensor, length: int) -> torch.Tensor:
    """The most likely token at each step, ``length`` steps or until every row has ended."""
    target_in = _start(source, length)
    out = torch.full_like(target_in, PAD)
    done = torch.zeros(len(source), dtype=torch.bool, device=source.device)
    for t in range(length):
        token = model(source, target_in)[:, t].float().argmax(-1)
        token = torch.where(done, torch.full_like(token, PAD), token)
        out[:, t] = token
        done |= token == EOS
        if t + 1 < length:
            target_in[:, t + 1] = token
        if bool(done.all()):
            break
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
    for t in range(length):
        logp = torch.log_softmax(model(src, target_in)[:, t].float(), -1)  # (N·K, V)
        v = logp.shape[-1]
        # A finished hypothesis extends only by PAD, at no cost.
        ended = torch.full_like(logp, float("-inf"))
        ended[:, PAD] = 0.0
        logp = torch.where(done[:, None], ended, logp)
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
        if bool(done.all()):
            break
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
