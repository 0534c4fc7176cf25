"""The table of layer types: one `LayerSpec` per type, grouped by category, in palette order.

Adding a layer type is adding one entry to its family's table: here, or in
`spatial_layers` (convolution, pooling, resampling and padding) or
`sequence_layers` (embeddings, recurrent layers, attention); the palette,
inspector, shape analysis, compiler and code generator all read the same
entry. Inferred parameters use the shapes of the inputs (batch first):
`table_helpers.channel_dim` is dim 1 of the first input, `last_dim` its last dim.
"""

from __future__ import annotations

import operator

import torch
from torch import nn

from studio.catalog import modules as sm
from studio.catalog import opaque
from studio.catalog.rbm import RBM
from studio.catalog.sequence_layers import ATTENTION, EMBEDDING, RECURRENT
from studio.catalog.spatial_layers import CONVOLUTION, POOLING, RESAMPLING
from studio.catalog.spec import LayerSpec, Param
from studio.catalog.table_helpers import P, channel_dim, inferred, last_dim, numbered


def _batchnorm(dim: int) -> LayerSpec:
    return LayerSpec(f"BatchNorm{dim}d", "Normalization",
                     "Normalizes each channel over the batch, then scales and shifts it.",
                     (inferred("num_features", channel_dim, "channels of the input"),
                      P("eps", "float", 1e-5, "added to the variance", min=0.0),
                      P("momentum", "float", 0.1, "weight of new batches in the running statistics", min=0.0, max=1.0),
                      P("affine", "bool", True, "learn a scale and a shift")),
                     module=getattr(nn, f"BatchNorm{dim}d"), rank=(2, 3) if dim == 1 else dim + 2)


# Activations without parameters compile to plain calls (torch.relu(x)), as hand-written code does:
# a submodule call per ReLU costs a few microseconds that show on small networks.
_FUNCTIONS = {"ReLU": torch.relu, "Sigmoid": torch.sigmoid, "Tanh": torch.tanh}


def _act(name: str, doc: str, *params: Param) -> LayerSpec:
    return LayerSpec(name, "Activation", doc, tuple(params), module=getattr(nn, name), function=_FUNCTIONS.get(name))


def _binary(name: str, fn, doc: str) -> LayerSpec:
    return LayerSpec(name, "Merge", doc, inputs=("a", "b"), function=fn)


SPECS: tuple[LayerSpec, ...] = (
    # --- Input / output -------------------------------------------------
    LayerSpec("Input", "Input/Output", "A network input; shape is one sample's shape, without the batch.",
              (P("shape", "shape", [1, 28, 28], "sizes of one sample", min=1, max=1_000_000),
               P("dtype", "choice", "float", "float for values, long for token or class ids",
                 choices=("float", "long"))), inputs=(), role="input"),
    LayerSpec("Output", "Input/Output", "A network output; its name names the result.",
              (P("classes", "optional_int", None, "number of classes; layers that say $classes follow it",
                 min=1, max=1_000_000),), outputs=(), role="output"),
    # --- Linear ----------------------------------------------------------
    LayerSpec("Linear", "Linear", "A fully connected layer: y = x Wᵀ + b on the last dimension.",
              (inferred("in_features", last_dim, "size of the last input dimension"),
               P("out_features", "int", 10, "size of each output", min=1, max=1_000_000),
               P("bias", "bool", True, "learn an additive bias")), module=nn.Linear),
    LayerSpec("Bilinear", "Linear", "y = x₁ᵀ A x₂ + b over two inputs.",
              (Param("in1_features", "int", None, "size of input 1", infer=lambda s: s[0][-1]),
               Param("in2_features", "int", None, "size of input 2", infer=lambda s: s[1][-1]),
               P("out_features", "int", 10, "size of each output", min=1, max=1_000_000),
               P("bias", "bool", True, "learn an additive bias")), inputs=("in1", "in2"), module=nn.Bilinear),
    LayerSpec("Identity", "Linear", "Passes its input through unchanged.", module=nn.Identity),
    # --- Convolution -----------------------------------------------------
    *CONVOLUTION,
    # --- Pooling ---------------------------------------------------------
    *POOLING,
    # --- Normalization ---------------------------------------------------
    *(_batchnorm(d) for d in (1, 2, 3)),
    LayerSpec("LayerNorm", "Normalization", "Normalizes over the last dimension of each sample.",
              (inferred("normalized_shape", last_dim, "size of the last dimension"),
               P("eps", "float", 1e-5, "added to the variance", min=0.0),
               P("elementwise_affine", "bool", True, "learn a scale and a shift")), module=nn.LayerNorm),
    LayerSpec("GroupNorm", "Normalization", "Normalizes groups of channels within each sample.",
              (P("num_groups", "int", 8, "channel groups (must divide the channels)", min=1, max=65536),
               inferred("num_channels", channel_dim, "channels of the input"),
               P("eps", "float", 1e-5, "added to the variance", min=0.0),
               P("affine", "bool", True, "learn a scale and a shift")), module=nn.GroupNorm),
    LayerSpec("InstanceNorm2d", "Normalization", "Normalizes each channel of each image on its own.",
              (inferred("num_features", channel_dim, "channels of the input"),
               P("eps", "float", 1e-5, "added to the variance", min=0.0),
               P("affine", "bool", False, "learn a scale and a shift"),
               P("track_running_stats", "bool", False, "keep running statistics")),
              module=nn.InstanceNorm2d, rank=4),
    LayerSpec("LocalResponseNorm", "Normalization", "Normalizes across neighbouring channels (AlexNet).",
              (P("size", "int", 5, "neighbouring channels", min=1, max=1024),
               P("alpha", "float", 1e-4, "scale", min=0.0), P("beta", "float", 0.75, "exponent", min=0.0),
               P("k", "float", 1.0, "additive constant", min=0.0)), module=nn.LocalResponseNorm, rank=(3, 4, 5)),
    # --- Dropout ---------------------------------------------------------
    LayerSpec("Dropout", "Dropout", "Zeroes elements at random while training.",
              (P("p", "float", 0.5, "probability of zeroing", min=0.0, max=1.0),), module=nn.Dropout),
    LayerSpec("Dropout2d", "Dropout", "Zeroes whole channels at random while training.",
              (P("p", "float", 0.5, "probability of zeroing", min=0.0, max=1.0),), module=nn.Dropout2d, rank=(3, 4)),
    LayerSpec("AlphaDropout", "Dropout", "Dropout that keeps SELU's mean and variance.",
              (P("p", "float", 0.5, "probability of dropping", min=0.0, max=1.0),), module=nn.AlphaDropout),
    # --- Activations -----------------------------------------------------
    _act("ReLU", "max(0, x)."),
    _act("ReLU6", "min(max(0, x), 6)."),
    _act("LeakyReLU", "x for x > 0, a small slope times x otherwise.",
         P("negative_slope", "float", 0.01, "slope for negative inputs")),
    _act("PReLU", "Leaky ReLU with a learned slope.",
         P("num_parameters", "int", 1, "learned slopes (1 or the channel count)", min=1, max=65536),
         P("init", "float", 0.25, "initial slope")),
    _act("ELU", "Exponential linear unit.", P("alpha", "float", 1.0, "scale of the negative part")),
    _act("SELU", "Self-normalizing ELU."),
    _act("CELU", "Continuously differentiable ELU.", P("alpha", "float", 1.0, "scale of the negative part", min=1e-6)),
    _act("GELU", "Gaussian error linear unit (Transformers).",
         P("approximate", "choice", "none", "exact or tanh approximation", choices=("none", "tanh"))),
    _act("SiLU", "x · sigmoid(x), also called swish."),
    _act("Mish", "x · tanh(softplus(x))."),
    _act("Sigmoid", "1 / (1 + e⁻ˣ)."),
    _act("Tanh", "Hyperbolic tangent."),
    _act("Softplus", "A smooth ReLU: log(1 + eˣ).", P("beta", "float", 1.0, "sharpness"),
         P("threshold", "float", 20.0, "linear above this")),
    _act("Softsign", "x / (1 + |x|)."),
    _act("Hardtanh", "Clamps to [min_val, max_val].", P("min_val", "float", -1.0, "lower bound"),
         P("max_val", "float", 1.0, "upper bound")),
    _act("Hardswish", "Piecewise-linear swish (MobileNetV3)."),
    _act("Softmax", "Turns scores into probabilities along a dimension.", P("dim", "int", -1, "dimension (0 is the batch)")),
    _act("LogSoftmax", "The logarithm of softmax, for NLL loss.", P("dim", "int", -1, "dimension (0 is the batch)")),
    # --- Shape -----------------------------------------------------------
    LayerSpec("Flatten", "Shape", "Flattens dims start_dim..end_dim into one (dim 0 is the batch).",
              (P("start_dim", "int", 1, "first dim to flatten"), P("end_dim", "int", -1, "last dim to flatten")),
              module=nn.Flatten, function=torch.flatten, call_kwargs=lambda p: dict(p)),
    LayerSpec("Unflatten", "Shape", "Splits one dimension into several sizes.",
              (P("dim", "int", 1, "dimension to split (0 is the batch)"),
               P("unflattened_size", "shape", [1, 28, 28], "the new sizes", min=1)), module=nn.Unflatten),
    LayerSpec("Reshape", "Shape", "Reshapes each sample (the batch is kept; -1 is inferred).",
              (P("shape", "shape", [-1], "new sample shape", min=-1),), module=sm.Reshape),
    LayerSpec("Permute", "Shape", "Reorders dimensions (0 is the batch).",
              (P("dims", "shape", [0, 2, 1], "the new order", min=0),), module=sm.Permute),
    LayerSpec("Transpose", "Shape", "Swaps two dimensions (0 is the batch).",
              (P("dim0", "int", 1, "first dimension"), P("dim1", "int", 2, "second dimension")),
              function=torch.transpose, call_kwargs=lambda p: {"dim0": p["dim0"], "dim1": p["dim1"]}),
    LayerSpec("Squeeze", "Shape", "Removes a dimension of size 1.", (P("dim", "int", -1, "dimension to remove"),),
              function=torch.squeeze, call_kwargs=lambda p: {"dim": p["dim"]}),
    LayerSpec("Unsqueeze", "Shape", "Inserts a dimension of size 1.", (P("dim", "int", 1, "where to insert"),),
              function=torch.unsqueeze, call_kwargs=lambda p: {"dim": p["dim"]}),
    LayerSpec("Select", "Shape", "Takes one index along a dimension (index -1 on dim 1: the last time step).",
              (P("dim", "int", 1, "dimension"), P("index", "int", -1, "index (negative counts from the end)")),
              function=torch.select, call_kwargs=lambda p: {"dim": p["dim"], "index": p["index"]}),
    LayerSpec("Slice", "Shape", "Keeps a range of indices along a dimension.",
              (P("dim", "int", 1, "dimension"), P("start", "int", 0, "first index"),
               P("end", "optional_int", None, "stop before this index (empty: to the end)")), module=sm.Slice),
    LayerSpec("Chunk", "Shape", "Splits into equal chunks along a dimension, one output each.",
              (P("chunks", "int", 2, "number of chunks", min=1, max=64), P("dim", "int", 1, "dimension")),
              outputs=numbered("out", "chunks"), function=torch.chunk,
              call_kwargs=lambda p: {"chunks": p["chunks"], "dim": p["dim"]}),
    LayerSpec("Split", "Shape", "Splits into pieces of the given sizes along a dimension.",
              (P("sizes", "shape", [1, 1], "size of each piece", min=1), P("dim", "int", 1, "dimension")),
              outputs=lambda p: tuple(f"out{i}" for i in range(len(p.get("sizes", [1, 1])))),
              function=torch.split, call_kwargs=lambda p: {"split_size_or_sections": list(p["sizes"]), "dim": p["dim"]}),
    # --- Merge and arithmetic -------------------------------------------
    _binary("Add", operator.add, "Element-wise sum (with broadcasting): residual connections."),
    _binary("Subtract", operator.sub, "Element-wise difference a − b."),
    _binary("Multiply", operator.mul, "Element-wise product (gates, attention weights)."),
    _binary("Divide", operator.truediv, "Element-wise quotient a / b."),
    _binary("MatMul", torch.matmul, "Matrix product of the last two dimensions."),
    LayerSpec("ScalarOp", "Merge", "Combines the input with a constant c: x + c, x − c, c − x, x × c, x / c or xᶜ.",
              (P("op", "choice", "mul", "the operation", choices=("add", "sub", "rsub", "mul", "div", "pow")),
               P("value", "float", 1.0, "the constant c")), module=sm.ScalarOp),
    LayerSpec("Concat", "Merge", "Joins its inputs along a dimension (1: channels).",
              (P("inputs", "int", 2, "number of inputs", min=2, max=32), P("dim", "int", 1, "dimension")),
              inputs=numbered("in", "inputs"), function=torch.cat, list_input=True,
              call_kwargs=lambda p: {"dim": p["dim"]}, exclude=("inputs",)),
    LayerSpec("Stack", "Merge", "Stacks its inputs along a new dimension.",
              (P("inputs", "int", 2, "number of inputs", min=2, max=32), P("dim", "int", 1, "new dimension")),
              inputs=numbered("in", "inputs"), function=torch.stack, list_input=True,
              call_kwargs=lambda p: {"dim": p["dim"]}, exclude=("inputs",)),
    LayerSpec("Mean", "Merge", "Averages over a dimension.",
              (P("dim", "int", 1, "dimension"), P("keepdim", "bool", False, "keep it with size 1")),
              function=torch.mean, call_kwargs=lambda p: {"dim": p["dim"], "keepdim": p["keepdim"]}),
    LayerSpec("LogSumExp", "Merge", "log Σ exp over a dimension, without overflow (the mean of probabilities "
              "in log space, for ensembles).",
              (P("dim", "int", 1, "dimension"), P("keepdim", "bool", False, "keep it with size 1")),
              function=torch.logsumexp, call_kwargs=lambda p: {"dim": p["dim"], "keepdim": p["keepdim"]}),
    LayerSpec("Vote", "Merge", "A majority vote of stacked log-probabilities (batch, members, classes): the log "
              "of each class's share of the votes, ties to the higher mean probability (for ensembles).",
              (), module=sm.Vote, rank=3),
    # --- Embedding -------------------------------------------------------
    *EMBEDDING,
    # --- Recurrent -------------------------------------------------------
    *RECURRENT,
    # --- Attention and Transformers -------------------------------------
    *ATTENTION,
    # --- Learned tensors -------------------------------------------------
    LayerSpec("Scale", "Linear", "Multiplies by a learned tensor (broadcast), such as LayerScale's gamma.",
              (P("shape", "shape", [1], "the learned tensor's shape (broadcast against a sample)", min=1),),
              module=sm.Scale),
    LayerSpec("Bias", "Linear", "Adds a learned tensor (broadcast), such as a learned position embedding.",
              (P("shape", "shape", [1], "the learned tensor's shape (broadcast against a sample)", min=1),),
              module=sm.Bias),
    # --- Energy-based --------------------------------------------------
    LayerSpec("RBM", "Energy-based", "A Bernoulli restricted Boltzmann machine; outputs p(hidden | visible), trains by CD-k.",
              (inferred("visible", last_dim, "visible units: size of the last input dimension"),
               P("hidden", "int", 64, "hidden units", min=1, max=1_000_000),
               P("k", "int", 1, "Gibbs steps of contrastive divergence (CD-k)", min=1, max=1000)),
              module=RBM),
    # --- Resampling and padding -----------------------------------------
    *RESAMPLING,
    # --- The user's own code (docs/architecture.md, "Code a project runs") ----
    LayerSpec("Module", "Custom code", "A module of your own code, run as it is (import keeps what the catalog "
              "cannot express this way); it runs only once you trust its code.",
              (P("target", "str", "", "the class: path/to/file.py:Class or package.module:Class"),
               P("args", "str", "{}", "its constructor arguments as JSON: a list or an object"),
               P("inputs", "int", 1, "tensors its forward takes", min=1, max=32),
               P("outputs", "int", 1, "tensors it returns (several: a tuple)", min=1, max=32)),
              inputs=opaque.ports("inputs", "in"), outputs=opaque.ports("outputs", "out"), build=opaque.build,
              exclude=("inputs", "outputs"), runs_code=True),
)
