"""The table of layer types: one `LayerSpec` per type, grouped by category.

Adding a layer type is adding one entry here; the palette, inspector, shape
analysis, compiler and code generator all read the same entry. Inferred
parameters use the shapes of the inputs (batch first): `_channels` is dim 1 of
the first input, `_last` its last dim.
"""

from __future__ import annotations

import operator

import torch
from torch import nn

from studio.catalog import modules as sm
from studio.catalog import opaque
from studio.catalog.spec import LayerSpec, Param


def _channels(shapes):
    return shapes[0][1]


def _last(shapes):
    return shapes[0][-1]


def _numbered(prefix: str, count_param: str):
    return lambda params: tuple(f"{prefix}{i}" for i in range(int(params.get(count_param, 2))))


def P(name, kind, default=None, doc="", **kw) -> Param:
    """Short constructor for the table below."""
    return Param(name, kind, default, doc, **kw)


def inferred(name, fn, doc) -> Param:
    """A parameter the input shape decides."""
    return Param(name, "int", None, doc, infer=fn)


_SAMPLE = {1: "C×L", 2: "C×H×W", 3: "C×D×H×W"}


def _conv(dim: int, transposed: bool) -> LayerSpec:
    kind = "ConvTranspose" if transposed else "Conv"
    cls = getattr(nn, f"{kind}{dim}d")
    params = [
        inferred("in_channels", _channels, "channels of the input"),
        P("out_channels", "int", 16, "number of filters", min=1, max=65536),
        P("kernel_size", "ints", 3, "filter size", min=1, max=1024),
        P("stride", "ints", 1, "step between windows", min=1, max=1024),
        P("padding", "ints", 0, "zeros added on each side ('same' keeps the size)", min=0, max=1024,
          choices=() if transposed else ("same", "valid")),
    ]
    if transposed:
        params.append(P("output_padding", "ints", 0, "extra size on one side of the output", min=0, max=1024))
    params += [
        P("dilation", "ints", 1, "spacing between filter taps", min=1, max=1024),
        P("groups", "int", 1, "blocked connections from input to output channels", min=1, max=65536),
        P("bias", "bool", True, "learn an additive bias"),
    ]
    if not transposed:
        params.append(P("padding_mode", "choice", "zeros", "how padding is filled",
                        choices=("zeros", "reflect", "replicate", "circular")))
    verb = "Transposed (up-sampling) convolution" if transposed else "Convolution"
    return LayerSpec(f"{kind}{dim}d", "Convolution", f"{verb} over {dim}-D inputs of shape {_SAMPLE[dim]}.",
                     tuple(params), module=cls, rank=dim + 2)


def _pool(kind: str, dim: int) -> LayerSpec:
    params = [P("kernel_size", "ints", 2, "window size", min=1, max=1024),
              P("stride", "ints", None, "step between windows (empty: the window size)", min=1, max=1024),
              P("padding", "ints", 0, "implicit padding on each side", min=0, max=512),
              P("ceil_mode", "bool", False, "round the output size up")]
    if kind == "Max":
        params.insert(3, P("dilation", "ints", 1, "spacing between window elements", min=1, max=64))
    name = "max" if kind == "Max" else "average"
    return LayerSpec(f"{kind}Pool{dim}d", "Pooling", f"The {name} of each {dim}-D window.",
                     tuple(params), module=getattr(nn, f"{kind}Pool{dim}d"), rank=dim + 2,
                     function=getattr(torch, f"max_pool{dim}d") if kind == "Max" else None,
                     call_kwargs=_pool_kwargs)


def _pool_kwargs(params: dict) -> dict:
    """torch.max_poolNd takes the window as the module does; an empty stride means the window."""
    return {k: v for k, v in params.items() if v is not None}


def _adaptive(kind: str, dim: int) -> LayerSpec:
    name = "max" if kind == "Max" else "average"
    return LayerSpec(f"Adaptive{kind}Pool{dim}d", "Pooling",
                     f"Pools to a fixed output size by the {name} of adaptive windows.",
                     (P("output_size", "ints", 1, "size of the output", min=1, max=4096),),
                     module=getattr(nn, f"Adaptive{kind}Pool{dim}d"), rank=dim + 2)


def _batchnorm(dim: int) -> LayerSpec:
    return LayerSpec(f"BatchNorm{dim}d", "Normalization",
                     "Normalizes each channel over the batch, then scales and shifts it.",
                     (inferred("num_features", _channels, "channels of the input"),
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


def _recurrent(cell: str) -> LayerSpec:
    params = (inferred("input_size", _last, "features per time step"),
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


def _upsample(kw: dict) -> tuple[type, dict]:
    """nn.Upsample; align_corners only for the interpolating modes (torch refuses it for nearest)."""
    kw = dict(kw)
    if kw["mode"] not in _INTERPOLATING:
        kw["align_corners"] = None
    if kw.get("size") is not None:
        kw["scale_factor"] = None
    return nn.Upsample, kw


def _pad_kwargs(p: dict) -> dict:
    """F.pad takes a fill value only in constant mode."""
    return {"pad": list(p["padding"]), "mode": p["mode"], "value": p["value"] if p["mode"] == "constant" else None}


_INTERPOLATING = ("linear", "bilinear", "bicubic", "trilinear")
_P_MODE = P("mode", "choice", "nearest", "interpolation", choices=("nearest", *_INTERPOLATING))
_P_CORNERS = P("align_corners", "bool", False, "align the corner pixels of input and output (linear modes)")


_P_TRANSFORMER = (inferred("d_model", _last, "features per position"),
                  P("nhead", "int", 8, "attention heads (must divide d_model)", min=1, max=256),
                  P("dim_feedforward", "int", 2048, "width of the feed-forward block", min=1, max=1_000_000),
                  P("dropout", "float", 0.1, "dropout", min=0.0, max=1.0),
                  P("activation", "choice", "relu", "feed-forward activation", choices=("relu", "gelu")),
                  P("norm_first", "bool", False, "pre-norm (more stable) instead of post-norm"))

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
              (inferred("in_features", _last, "size of the last input dimension"),
               P("out_features", "int", 10, "size of each output", min=1, max=1_000_000),
               P("bias", "bool", True, "learn an additive bias")), module=nn.Linear),
    LayerSpec("Bilinear", "Linear", "y = x₁ᵀ A x₂ + b over two inputs.",
              (Param("in1_features", "int", None, "size of input 1", infer=lambda s: s[0][-1]),
               Param("in2_features", "int", None, "size of input 2", infer=lambda s: s[1][-1]),
               P("out_features", "int", 10, "size of each output", min=1, max=1_000_000),
               P("bias", "bool", True, "learn an additive bias")), inputs=("in1", "in2"), module=nn.Bilinear),
    LayerSpec("Identity", "Linear", "Passes its input through unchanged.", module=nn.Identity),
    # --- Convolution -----------------------------------------------------
    *(_conv(d, t) for t in (False, True) for d in (1, 2, 3)),
    # --- Pooling ---------------------------------------------------------
    *(_pool(k, d) for k in ("Max", "Avg") for d in (1, 2, 3)),
    *(_adaptive(k, d) for k in ("Avg", "Max") for d in (1, 2)),
    LayerSpec("GlobalAvgPool", "Pooling", "Averages each channel over all positions: C×H×W → C.",
              module=sm.GlobalAvgPool, rank=(3, 4, 5)),
    # --- Normalization ---------------------------------------------------
    *(_batchnorm(d) for d in (1, 2, 3)),
    LayerSpec("LayerNorm", "Normalization", "Normalizes over the last dimension of each sample.",
              (inferred("normalized_shape", _last, "size of the last dimension"),
               P("eps", "float", 1e-5, "added to the variance", min=0.0),
               P("elementwise_affine", "bool", True, "learn a scale and a shift")), module=nn.LayerNorm),
    LayerSpec("GroupNorm", "Normalization", "Normalizes groups of channels within each sample.",
              (P("num_groups", "int", 8, "channel groups (must divide the channels)", min=1, max=65536),
               inferred("num_channels", _channels, "channels of the input"),
               P("eps", "float", 1e-5, "added to the variance", min=0.0),
               P("affine", "bool", True, "learn a scale and a shift")), module=nn.GroupNorm),
    LayerSpec("InstanceNorm2d", "Normalization", "Normalizes each channel of each image on its own.",
              (inferred("num_features", _channels, "channels of the input"),
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
              outputs=_numbered("out", "chunks"), function=torch.chunk,
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
              inputs=_numbered("in", "inputs"), function=torch.cat, list_input=True,
              call_kwargs=lambda p: {"dim": p["dim"]}, exclude=("inputs",)),
    LayerSpec("Stack", "Merge", "Stacks its inputs along a new dimension.",
              (P("inputs", "int", 2, "number of inputs", min=2, max=32), P("dim", "int", 1, "new dimension")),
              inputs=_numbered("in", "inputs"), function=torch.stack, list_input=True,
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
    # --- Recurrent -------------------------------------------------------
    _recurrent("RNN"), _recurrent("LSTM"), _recurrent("GRU"),
    # --- Attention and Transformers -------------------------------------
    LayerSpec("MultiheadAttention", "Attention", "Multi-head attention; key and value default to the query (self-attention).",
              (inferred("embed_dim", _last, "features of the query"),
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
              (inferred("query_size", _last, "features of the query"),
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
              (inferred("d_model", _last, "features per position"),
               P("kind", "choice", "sinusoidal", "fixed sine/cosine or learned", choices=("sinusoidal", "learned")),
               P("max_len", "int", 512, "longest sequence", min=1, max=1_000_000),
               P("dropout", "float", 0.0, "dropout after adding", min=0.0, max=1.0)),
              build=lambda kw: (sm.LearnedPositionalEncoding if kw["kind"] == "learned" else sm.SinusoidalPositionalEncoding,
                                {k: v for k, v in kw.items() if k != "kind"}), rank=3),
    LayerSpec("ClassToken", "Attention", "Puts a learned vector before the sequence: (L, d) → (L + 1, d), as ViT does.",
              (inferred("d_model", _last, "features per position"),), module=sm.ClassToken, rank=3),
    # --- Learned tensors -------------------------------------------------
    LayerSpec("Scale", "Linear", "Multiplies by a learned tensor (broadcast), such as LayerScale's gamma.",
              (P("shape", "shape", [1], "the learned tensor's shape (broadcast against a sample)", min=1),),
              module=sm.Scale),
    LayerSpec("Bias", "Linear", "Adds a learned tensor (broadcast), such as a learned position embedding.",
              (P("shape", "shape", [1], "the learned tensor's shape (broadcast against a sample)", min=1),),
              module=sm.Bias),
    # --- Energy-based --------------------------------------------------
    LayerSpec("RBM", "Energy-based", "A Bernoulli restricted Boltzmann machine; outputs p(hidden | visible), trains by CD-k.",
              (inferred("visible", _last, "visible units: size of the last input dimension"),
               P("hidden", "int", 64, "hidden units", min=1, max=1_000_000),
               P("k", "int", 1, "Gibbs steps of contrastive divergence (CD-k)", min=1, max=1000)),
              module=sm.RBM),
    # --- Resampling and padding -----------------------------------------
    LayerSpec("Upsample", "Resampling", "Scales the spatial size up (or down) by a factor, or to a fixed size.",
              (P("scale_factor", "float", 2.0, "factor on each spatial dim", min=0.01, max=64.0), _P_MODE,
               _P_CORNERS, P("size", "shape", None, "a fixed output size instead of the factor", min=1)),
              module=nn.Upsample, build=_upsample, rank=(3, 4, 5)),
    LayerSpec("ResizeTo", "Resampling", "Interpolates the input to the spatial size of a second input (FPN, U-Net).",
              (_P_MODE, _P_CORNERS), inputs=("in", "like"), module=sm.ResizeTo, rank=(3, 4, 5)),
    LayerSpec("Pad", "Resampling", "Pads the last dimensions: [left, right] for the last, then the one before, ...",
              (P("padding", "shape", [1, 1], "sizes added (negative: removed), two per dimension, last first"),
               P("mode", "choice", "constant", "how the border is filled",
                 choices=("constant", "reflect", "replicate", "circular")),
               P("value", "float", 0.0, "fill value of constant mode")),
              function=nn.functional.pad, call_kwargs=_pad_kwargs),
    LayerSpec("PadTo", "Resampling", "Pads (or crops) the input to the spatial size of a second input (U-Net skips).",
              inputs=("in", "like"), module=sm.PadTo, rank=(3, 4, 5)),
    LayerSpec("PixelShuffle", "Resampling", "Moves channels into space: C·r²×H×W → C×rH×rW.",
              (P("upscale_factor", "int", 2, "r", min=1, max=64),), module=nn.PixelShuffle, rank=4),
    LayerSpec("ZeroPad2d", "Resampling", "Pads an image with zeros (one number, or left, right, top, bottom).",
              (P("padding", "ints", 1, "pixels", min=0, max=4096),), module=nn.ZeroPad2d, rank=(3, 4)),
    LayerSpec("ReflectionPad2d", "Resampling", "Pads an image by mirroring its border.",
              (P("padding", "ints", 1, "pixels", min=0, max=4096),), module=nn.ReflectionPad2d, rank=(3, 4)),
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
