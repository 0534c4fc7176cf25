"""How much memory a network takes, estimated from its analysis before anything is allocated.

Values are float32 (4 bytes). A training step holds the weights, their
gradients and the optimiser's state per weight, plus every layer's output for
a batch (kept for the backward pass) and as much again for their gradients.
The estimates are lower bounds good to a small factor: enough to refuse, with
a plain message, a job that cannot fit (`studio.system.require_memory`).
"""

from __future__ import annotations

import math

import torch

from studio.graph.analysis import Report

BYTES = 4
# Values the optimiser keeps per weight (Adam: two moments; SGD: momentum).
OPTIMIZER_STATES = {"adam": 2, "adamw": 2, "rmsprop": 1, "sgd": 1}


def activation_values(report: Report) -> int:
    """Values per sample of every node's outputs, those inside blocks included."""
    total = 0
    for res in report.nodes.values():
        if res.inner:
            total += sum(activation_values(inner) for inner in res.inner)
        else:
            total += sum(math.prod(shape) for shape in res.outputs.values())
    return total


def tensor_bytes(obj) -> int:
    """Bytes of the tensors in a state_dict or a nest of dicts and lists (about the size of its file)."""
    if isinstance(obj, torch.Tensor):
        return obj.numel() * obj.element_size()
    if isinstance(obj, dict):
        return sum(tensor_bytes(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(tensor_bytes(v) for v in obj)
    return 0


def weight_bytes(report: Report) -> int:
    """Bytes of the network's weights."""
    return report.total_params * BYTES


def training_bytes(report: Report, batch_size: int, optimizer: str = "adam") -> int:
    """Bytes one training step of a batch needs: weights, gradients, optimiser state, activations."""
    per_weight = 2 + OPTIMIZER_STATES.get(optimizer, 2)
    return weight_bytes(report) * per_weight + 2 * activation_values(report) * batch_size * BYTES
