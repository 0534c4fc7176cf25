"""Writes the preset project files of this folder from the definitions below.

Run `python presets/build.py` after changing a definition; a test checks that
every JSON file here equals what this script writes, so the two never drift.
The ImageNet architectures follow torchvision's definitions layer for layer,
built from blocks: a ResNet is a stem, a bottleneck (or basic) block and four
stages that repeat it; VGG repeats a conv stage; Inception networks reuse one
block definition per kind of Inception module.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from studio.graph import Analyzer, Project, io  # noqa: E402
from studio.graph.layout import lay_out_project  # noqa: E402

DX, DY = 230, 120  # canvas spacing between nodes: room for a shape label between two nodes


class Builder:
    """Adds nodes to a network left to right; `add` wires the new node to `src` (the last node by default)."""

    def __init__(self, net):
        self.net = net
        self.col = 0
        self.last = None

    def add(self, type_, name, params=None, src=None, port=None, row=0, col=None, in_port=None):
        col = self.col if col is None else col
        nid = self.net.add_node(type_, name, params or {}, (col * DX, row * DY), id=name)
        src = self.last if src is None else src
        if src is not None:
            ins = self.net.ports(self.net.node(nid))[0]
            outs = self.net.ports(self.net.node(src))[1]
            self.net.connect(src, port or outs[0], nid, in_port or ins[0])
        self.col = col + 1
        self.last = nid
        return nid

    def wire(self, src, dst, in_port, port=None):
        self.net.connect(src, port or self.net.ports(self.net.node(src))[1][0], dst, in_port)


def block(project, name, params, doc=""):
    """A new block definition and a Builder for its network."""
    return Builder(project.add_block(name, params, doc).network)


CONV_BN_DEFAULTS = {"kh": 1, "kw": 1, "stride": 1, "ph": 0, "pw": 0}


def conv_bn(project, name="conv_bn", eps=1e-5, relu=True):
    """Conv (no bias) + BatchNorm (+ ReLU): torchvision's BasicConv2d when eps=0.001."""
    b = block(project, name, {"out": 64, **CONV_BN_DEFAULTS},
              "Convolution without bias, batch norm" + (", ReLU." if relu else "."))
    b.add("Input", "x", {"shape": [64, 32, 32]})
    b.add("Conv2d", "conv", {"out_channels": "$out", "kernel_size": ["$kh", "$kw"], "stride": "$stride",
                             "padding": ["$ph", "$pw"], "bias": False})
    b.add("BatchNorm2d", "bn", {"eps": eps} if eps != 1e-5 else {})
    if relu:
        b.add("ReLU", "relu")
    b.add("Output", "y")


def new_project(name, title, description, about, input_shape, data, training, task="classification"):
    p = Project(name)
    p.metadata = {"title": title, "task": task, "description": description, "about": about,
                  "input": "×".join(map(str, input_shape))}
    if "input_shape" in training:
        small = "×".join(map(str, training["input_shape"]))
        p.metadata["training_note"] = (f"Trains at {small} on the {data['source']} data by default "
                                       f"(training setting input_shape); remove that setting to train at "
                                       f"{p.metadata['input']}.")
    p.data = data
    p.training = training
    return p


def image_training(size, epochs=3, lr=0.001, batch=32, optimizer="adam", channels=3):
    """Train on the built-in digits at a small size; remove input_shape to train at the standard size."""
    return {"loss": "cross_entropy", "optimizer": optimizer, "lr": lr, "epochs": epochs, "batch_size": batch,
            "input_shape": [channels, size, size]}


DIGITS = {"source": "digits", "val_split": 0.2, "seed": 0, "normalize": True}


# --- LeNet-5 and the XOR perceptron -------------------------------------------
def lenet5():
    p = new_project("lenet5", "LeNet-5", "LeCun et al. 1998: two convolution and pooling stages, then three fully connected layers.",
                    "LeNet-5 showed that convolutions with shared weights, followed by subsampling, learn features from raw "
                    "pixels; it read handwritten digits on cheques in the 1990s. This version uses ReLU and max pooling.",
                    [1, 32, 32], DIGITS, {"loss": "cross_entropy", "optimizer": "adam", "lr": 0.002, "epochs": 8, "batch_size": 64})
    b = Builder(p.add_network("main"))
    b.add("Input", "image", {"shape": [1, 32, 32]})
    for i, (ch, src) in enumerate(((6, None), (16, None)), 1):
        b.add("Conv2d", f"conv{i}", {"out_channels": ch, "kernel_size": 5})
        b.add("ReLU", f"relu{i}")
        b.add("MaxPool2d", f"pool{i}", {"kernel_size": 2})
    b.add("Flatten", "flatten")
    b.add("Linear", "fc1", {"out_features": 120})
    b.add("ReLU", "relu3")
    b.add("Linear", "fc2", {"out_features": 84})
    b.add("ReLU", "relu4")
    b.add("Linear", "fc3", {"out_features": "$classes"})
    b.add("Output", "logits", {"classes": 10})
    return p


def mlp_xor():
    p = new_project("mlp_xor", "XOR multilayer perceptron", "The 2-8-1 network that learns XOR, which no single-layer perceptron can.",
                    "Minsky and Papert showed in 1969 that a single-layer perceptron cannot learn XOR; one hidden layer can. "
                    "Two inputs, eight tanh units, one output trained with binary cross-entropy.",
                    [2], {"source": "xor", "val_split": 0.2, "seed": 0},
                    {"loss": "bce_logits", "optimizer": "adam", "lr": 0.05, "epochs": 30, "batch_size": 32})
    b = Builder(p.add_network("main"))
    b.add("Input", "x", {"shape": [2]})
    b.add("Linear", "hidden", {"out_features": 8})
    b.add("Tanh", "tanh")
    b.add("Linear", "out", {"out_features": 1})
    b.add("Output", "logit")
    return p


# --- AlexNet and VGG ----------------------------------------------------------------
def classifier(b, in_dropout_first=True, dropout=0.5, hidden=4096, classes=1000):
    """torchvision's classifier head: (Dropout) Linear ReLU (Dropout) Linear ReLU Linear."""
    if in_dropout_first:
        b.add("Dropout", "drop1", {"p": dropout})
    b.add("Linear", "fc1", {"out_features": hidden})
    b.add("ReLU", "relu_fc1")
    if not in_dropout_first:
        b.add("Dropout", "drop1", {"p": dropout})
    else:
        b.add("Dropout", "drop2", {"p": dropout})
    b.add("Linear", "fc2", {"out_features": hidden})
    b.add("ReLU", "relu_fc2")
    if not in_dropout_first:
        b.add("Dropout", "drop2", {"p": dropout})
    b.add("Linear", "fc3", {"out_features": "$classes"})
    b.add("Output", "logits", {"classes": classes})


def alexnet():
    p = new_project("alexnet", "AlexNet", "Krizhevsky et al. 2012: five convolutions and three dense layers, ReLU and dropout.",
                    "AlexNet won ImageNet 2012 by a wide margin, trained on two GPUs; it made ReLU, dropout and data "
                    "augmentation standard and started the deep learning boom. torchvision's single-GPU variant.",
                    [3, 224, 224], DIGITS, image_training(64))
    b = Builder(p.add_network("main"))
    b.add("Input", "image", {"shape": [3, 224, 224]})
    convs = [(64, 11, 4, 2, True), (192, 5, 1, 2, True), (384, 3, 1, 1, False), (256, 3, 1, 1, False), (256, 3, 1, 1, True)]
    for i, (ch, k, s, pad, pool) in enumerate(convs, 1):
        b.add("Conv2d", f"conv{i}", {"out_channels": ch, "kernel_size": k, "stride": s, "padding": pad})
        b.add("ReLU", f"relu{i}")
        if pool:
            b.add("MaxPool2d", f"pool{i}", {"kernel_size": 3, "stride": 2})
    b.add("AdaptiveAvgPool2d", "avgpool", {"output_size": 6})
    b.add("Flatten", "flatten")
    classifier(b, in_dropout_first=True)
    return p


VGG_CFG = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}


def vgg(name, bn=False):
    cfg = VGG_CFG[name.replace("_bn", "")]
    depth = sum(cfg) + 3
    title = f"VGG-{depth}" + (" with batch norm" if bn else "")
    p = new_project(name, title, f"Simonyan & Zisserman 2014: {sum(cfg)} 3×3 convolutions in five stages, then three dense layers"
                    + ("; batch norm after every convolution, so it trains faster and at higher rates." if bn else
                       " (the original, without batch norm)."),
                    "VGG showed that depth built from small 3×3 filters beats large filters; its plain, uniform design "
                    "made it the standard feature extractor for years." + (" Batch norm after every convolution." if bn else ""),
                    [3, 224, 224], DIGITS, image_training(32, lr=0.0005))
    c = block(p, "conv3x3", {"width": 64}, "3×3 convolution with padding 1" + (", batch norm" if bn else "") + ", ReLU.")
    c.add("Input", "x", {"shape": [64, 32, 32]})
    c.add("Conv2d", "conv", {"out_channels": "$width", "kernel_size": 3, "padding": 1})
    if bn:
        c.add("BatchNorm2d", "bn")
    c.add("ReLU", "relu")
    c.add("Output", "y")
    b = Builder(p.add_network("main"))
    b.add("Input", "image", {"shape": [3, 224, 224]})
    for i, (n, width) in enumerate(zip(cfg, (64, 128, 256, 512, 512)), 1):
        b.add("Block", f"stage{i}", {"block": "conv3x3", "repeat": n, "width": width})
        b.add("MaxPool2d", f"pool{i}", {"kernel_size": 2, "stride": 2})
    b.add("AdaptiveAvgPool2d", "avgpool", {"output_size": 7})
    b.add("Flatten", "flatten")
    classifier(b, in_dropout_first=False)
    return p


# --- ResNet and ResNeXt ----------------------------------------------------------------
RESNETS = {  # name: (block kind, blocks per stage, groups, width per group, title, params)
    "resnet18": ("basic", (2, 2, 2, 2), 1, 64),
    "resnet34": ("basic", (3, 4, 6, 3), 1, 64),
    "resnet50": ("bottleneck", (3, 4, 6, 3), 1, 64),
    "resnet101": ("bottleneck", (3, 4, 23, 3), 1, 64),
    "resnet152": ("bottleneck", (3, 8, 36, 3), 1, 64),
    "resnext50_32x4d": ("bottleneck", (3, 4, 6, 3), 32, 4),
    "resnext101_32x8d": ("bottleneck", (3, 4, 23, 3), 32, 8),
}


def residual_blocks(p, kind):
    """The block definitions of a ResNet: its residual unit with and without a projection, and a stage."""
    conv_bn(p)
    conv_bn(p, "conv_bn_linear", relu=False)
    for down in (False, True):
        name = f"{kind}_down" if down else kind
        params = {"width": 64, "out": 256, "stride": 1, "groups": 1} if kind == "bottleneck" else {"out": 64, "stride": 1}
        doc = ("1×1 reduce, 3×3 (grouped, strided), 1×1 expand, plus the input" if kind == "bottleneck"
               else "two 3×3 convolutions plus the input")
        b = block(p, name, params, doc + (", projected by a strided 1×1 convolution." if down else "."))
        x = b.add("Input", "x", {"shape": [64, 56, 56]})
        if kind == "bottleneck":
            b.add("Block", "reduce", {"block": "conv_bn", "out": "$width"})
            b.add("Conv2d", "conv2", {"out_channels": "$width", "kernel_size": 3, "stride": "$stride", "padding": 1,
                                      "groups": "$groups", "bias": False})
            b.add("BatchNorm2d", "bn2")
            b.add("ReLU", "relu2")
            last = b.add("Block", "expand", {"block": "conv_bn_linear", "out": "$out"})
        else:
            b.add("Block", "conv1", {"block": "conv_bn", "out": "$out", "kh": 3, "kw": 3, "stride": "$stride", "ph": 1, "pw": 1})
            last = b.add("Block", "conv2", {"block": "conv_bn_linear", "out": "$out", "kh": 3, "kw": 3, "ph": 1, "pw": 1})
        skip = x
        if down:
            skip = b.add("Block", "downsample", {"block": "conv_bn_linear", "out": "$out", "stride": "$stride"},
                         src=x, row=1, col=2)
        add = b.add("Add", "add", src=last, col=int(b.net.node(last).pos[0] // DX) + 1)
        b.wire(skip, add, "b")
        b.add("ReLU", "relu")
        b.add("Output", "y")
    stage = block(p, "stage", {**({"width": 64, "groups": 1} if kind == "bottleneck" else {}), "out": 256, "stride": 1, "blocks": 3},
                  f"A ResNet stage: one {kind} with a projection (it changes width or size), then blocks−1 plain ones.")
    stage.add("Input", "x", {"shape": [64, 56, 56]})
    args = {"width": "$width", "groups": "$groups"} if kind == "bottleneck" else {}
    stage.add("Block", "first", {"block": f"{kind}_down", **args, "out": "$out", "stride": "$stride"})
    stage.add("Block", "rest", {"block": kind, **args, "out": "$out", "repeat": "$blocks - 1"})
    stage.add("Output", "y")


def resnet(name):
    kind, counts, groups, per_group = RESNETS[name]
    depth = {"basic": 2, "bottleneck": 3}[kind] * sum(counts) + 2
    is_next = name.startswith("resnext")
    title = f"ResNeXt-{depth} {groups}×{per_group}d" if is_next else f"ResNet-{depth}"
    about = ("ResNeXt (Xie et al. 2017) splits each bottleneck's 3×3 convolution into parallel groups: more width for "
             "the same cost, a new dimension besides depth and width called cardinality." if is_next else
             "ResNet (He et al. 2015) adds each block's input to its output, so a block only has to learn a residual; "
             "identity shortcuts let gradients reach early layers and made networks of 150 layers trainable. "
             "It won ImageNet 2015.")
    p = new_project(name, title, f"{title}: a stem, then four stages of {kind} residual blocks {counts}.", about,
                    [3, 224, 224], DIGITS, image_training(32, lr=0.001))
    residual_blocks(p, kind)
    b = Builder(p.add_network("main"))
    b.add("Input", "image", {"shape": [3, 224, 224]})
    b.add("Block", "stem", {"block": "conv_bn", "out": 64, "kh": 7, "kw": 7, "stride": 2, "ph": 3, "pw": 3})
    b.add("MaxPool2d", "maxpool", {"kernel_size": 3, "stride": 2, "padding": 1})
    expansion = 4 if kind == "bottleneck" else 1
    for i, (n, planes) in enumerate(zip(counts, (64, 128, 256, 512)), 1):
        if kind == "basic" and i == 1:  # same width and size in and out: no projection, as in torchvision
            b.add("Block", "layer1", {"block": "basic", "out": planes, "repeat": n})
            continue
        args = {"width": planes * per_group // 64 * groups, "groups": groups} if kind == "bottleneck" else {}
        b.add("Block", f"layer{i}", {"block": "stage", **args, "out": planes * expansion, "stride": 1 if i == 1 else 2, "blocks": n})
    b.add("AdaptiveAvgPool2d", "avgpool", {"output_size": 1})
    b.add("Flatten", "flatten")
    b.add("Linear", "fc", {"out_features": "$classes"})
    b.add("Output", "logits", {"classes": 1000})
    return p


# --- GoogLeNet and Inception v3 -------------------------------------------------------
def bc(b, name, out, k=1, s=1, pad=0, src=None, row=0, col=None):
    """torchvision's BasicConv2d (conv, batch norm with eps 0.001, ReLU) as a block instance."""
    kh, kw = (k, k) if isinstance(k, int) else k
    ph, pw = (pad, pad) if isinstance(pad, int) else pad
    given = {"kh": kh, "kw": kw, "stride": s, "ph": ph, "pw": pw}
    params = {"block": "basic_conv", "out": out, **{k_: v for k_, v in given.items() if v != CONV_BN_DEFAULTS[k_]}}
    return b.add("Block", name, params, src=src, row=row, col=col)


def concat(b, name, branches, col):
    cat = b.add("Concat", name, {"inputs": len(branches)}, src=branches[0], col=col)
    for i, br in enumerate(branches[1:], 1):
        b.wire(br, cat, f"in{i}")
    return cat


def googlenet_blocks(p):
    conv_bn(p, "basic_conv", eps=0.001)
    b = block(p, "inception", {"ch1x1": 64, "ch3x3red": 96, "ch3x3": 128, "ch5x5red": 16, "ch5x5": 32, "pool_proj": 32},
              "Four parallel branches (1×1; 1×1→3×3; 1×1→3×3; 3×3 max pool→1×1) joined along the channels.")
    x = b.add("Input", "x", {"shape": [192, 28, 28]})
    b1 = bc(b, "branch1", "$ch1x1", src=x, row=0, col=1)
    bc(b, "branch2_reduce", "$ch3x3red", src=x, row=1, col=1)
    b2 = bc(b, "branch2", "$ch3x3", k=3, pad=1, row=1)
    bc(b, "branch3_reduce", "$ch5x5red", src=x, row=2, col=1)
    b3 = bc(b, "branch3", "$ch5x5", k=3, pad=1, row=2)  # torchvision uses 3×3 here, as its reference weights did
    b.add("MaxPool2d", "branch4_pool", {"kernel_size": 3, "stride": 1, "padding": 1, "ceil_mode": True}, src=x, row=3, col=1)
    b4 = bc(b, "branch4", "$pool_proj", row=3)
    concat(b, "cat", [b1, b2, b3, b4], col=3)
    b.add("Output", "y")


GOOGLENET = [("inception3a", (64, 96, 128, 16, 32, 32)), ("inception3b", (128, 128, 192, 32, 96, 64)), "maxpool3",
             ("inception4a", (192, 96, 208, 16, 48, 64)), ("inception4b", (160, 112, 224, 24, 64, 64)),
             ("inception4c", (128, 128, 256, 24, 64, 64)), ("inception4d", (112, 144, 288, 32, 64, 64)),
             ("inception4e", (256, 160, 320, 32, 128, 128)), "maxpool4",
             ("inception5a", (256, 160, 320, 32, 128, 128)), ("inception5b", (384, 192, 384, 48, 128, 128))]


AUX_NOTE = {False: "the auxiliary classifiers are left out (the preset {name}_aux has them).",
            True: "with its auxiliary classifiers: extra outputs whose losses, weighted 0.3, train the middle layers."}


def googlenet(aux=False):
    name = "googlenet_aux" if aux else "googlenet"
    p = new_project(name, "GoogLeNet (Inception v1)" + (" with auxiliary classifiers" if aux else ""),
                    "Szegedy et al. 2014: nine Inception modules of parallel 1×1, 3×3 and 5×5 branches"
                    + ("; two auxiliary classifiers on the middle layers add their losses." if aux else
                       ", one classifier (no auxiliary heads)."),
                    "GoogLeNet won ImageNet 2014 with 12× fewer parameters than AlexNet: Inception modules look at several "
                    "scales at once, and cheap 1×1 convolutions shrink the channels before the expensive ones. "
                    "torchvision's version with batch norm; " + AUX_NOTE[aux].format(name="googlenet"),
                    [3, 224, 224], DIGITS, image_training(32))
    googlenet_blocks(p)
    b = Builder(p.add_network("main"))
    b.add("Input", "image", {"shape": [3, 224, 224]})
    bc(b, "conv1", 64, k=7, s=2, pad=3)
    b.add("MaxPool2d", "maxpool1", {"kernel_size": 3, "stride": 2, "ceil_mode": True})
    bc(b, "conv2", 64)
    bc(b, "conv3", 192, k=3, pad=1)
    b.add("MaxPool2d", "maxpool2", {"kernel_size": 3, "stride": 2, "ceil_mode": True})
    keys = ("ch1x1", "ch3x3red", "ch3x3", "ch5x5red", "ch5x5", "pool_proj")
    for item in GOOGLENET:
        if item == "maxpool3":
            b.add("MaxPool2d", item, {"kernel_size": 3, "stride": 2, "ceil_mode": True})
        elif item == "maxpool4":
            b.add("MaxPool2d", item, {"kernel_size": 2, "stride": 2, "ceil_mode": True})
        else:
            b.add("Block", item[0], {"block": "inception", **dict(zip(keys, item[1]))})
    b.add("AdaptiveAvgPool2d", "avgpool", {"output_size": 1})
    b.add("Flatten", "flatten")
    b.add("Dropout", "dropout", {"p": 0.2})
    b.add("Linear", "fc", {"out_features": "$classes"})
    b.add("Output", "logits", {"classes": 1000})
    if aux:  # added after the main output, so compiled models return (logits, aux2, aux1) as torchvision does
        head = block(p, "aux_head", {"classes": 1000}, "Auxiliary classifier: 4×4 average pool, 1×1 conv, two dense layers.")
        head.add("Input", "x", {"shape": [512, 14, 14]})
        head.add("AdaptiveAvgPool2d", "pool", {"output_size": 4})
        bc(head, "conv", 128)
        head.add("Flatten", "flatten")
        head.add("Linear", "fc1", {"out_features": 1024})
        head.add("ReLU", "relu")
        head.add("Dropout", "dropout", {"p": 0.7})
        head.add("Linear", "fc2", {"out_features": "$classes"})
        head.add("Output", "y")
        for out, src in (("aux2", "inception4d"), ("aux1", "inception4a")):
            b.add("Block", f"{out}_head", {"block": "aux_head", "classes": "$classes"}, src=src, row=2)
            b.add("Output", out)
    return p


def inception_v3_blocks(p):
    conv_bn(p, "basic_conv", eps=0.001)
    pool_same = {"kernel_size": 3, "stride": 1, "padding": 1}

    a = block(p, "inception_a", {"pool_features": 32}, "35×35 module: 1×1, 5×5, double 3×3 and pooled branches.")
    x = a.add("Input", "x", {"shape": [192, 35, 35]})
    b1 = bc(a, "branch1x1", 64, src=x, row=0, col=1)
    bc(a, "branch5x5_1", 48, src=x, row=1, col=1)
    b2 = bc(a, "branch5x5_2", 64, k=5, pad=2, row=1)
    bc(a, "branch3x3dbl_1", 64, src=x, row=2, col=1)
    bc(a, "branch3x3dbl_2", 96, k=3, pad=1, row=2)
    b3 = bc(a, "branch3x3dbl_3", 96, k=3, pad=1, row=2)
    a.add("AvgPool2d", "pool", pool_same, src=x, row=3, col=1)
    b4 = bc(a, "branch_pool", "$pool_features", row=3)
    concat(a, "cat", [b1, b2, b3, b4], col=4)
    a.add("Output", "y")

    b_ = block(p, "inception_b", {}, "Grid reduction 35→17: strided 3×3, strided double 3×3 and max pool.")
    x = b_.add("Input", "x", {"shape": [288, 35, 35]})
    b1 = bc(b_, "branch3x3", 384, k=3, s=2, src=x, row=0, col=1)
    bc(b_, "branch3x3dbl_1", 64, src=x, row=1, col=1)
    bc(b_, "branch3x3dbl_2", 96, k=3, pad=1, row=1)
    b2 = bc(b_, "branch3x3dbl_3", 96, k=3, s=2, row=1)
    b3 = b_.add("MaxPool2d", "pool", {"kernel_size": 3, "stride": 2}, src=x, row=2, col=1)
    concat(b_, "cat", [b1, b2, b3], col=4)
    b_.add("Output", "y")

    c = block(p, "inception_c", {"c7": 128}, "17×17 module: factorised 7×7 convolutions (1×7 then 7×1).")
    x = c.add("Input", "x", {"shape": [768, 17, 17]})
    b1 = bc(c, "branch1x1", 192, src=x, row=0, col=1)
    bc(c, "branch7x7_1", "$c7", src=x, row=1, col=1)
    bc(c, "branch7x7_2", "$c7", k=(1, 7), pad=(0, 3), row=1)
    b2 = bc(c, "branch7x7_3", 192, k=(7, 1), pad=(3, 0), row=1)
    bc(c, "branch7x7dbl_1", "$c7", src=x, row=2, col=1)
    bc(c, "branch7x7dbl_2", "$c7", k=(7, 1), pad=(3, 0), row=2)
    bc(c, "branch7x7dbl_3", "$c7", k=(1, 7), pad=(0, 3), row=2)
    bc(c, "branch7x7dbl_4", "$c7", k=(7, 1), pad=(3, 0), row=2)
    b3 = bc(c, "branch7x7dbl_5", 192, k=(1, 7), pad=(0, 3), row=2)
    c.add("AvgPool2d", "pool", pool_same, src=x, row=3, col=1)
    b4 = bc(c, "branch_pool", 192, row=3)
    concat(c, "cat", [b1, b2, b3, b4], col=6)
    c.add("Output", "y")

    d = block(p, "inception_d", {}, "Grid reduction 17→8: strided 3×3 after 1×1, strided 3×3 after 7×7, max pool.")
    x = d.add("Input", "x", {"shape": [768, 17, 17]})
    bc(d, "branch3x3_1", 192, src=x, row=0, col=1)
    b1 = bc(d, "branch3x3_2", 320, k=3, s=2, row=0)
    bc(d, "branch7x7x3_1", 192, src=x, row=1, col=1)
    bc(d, "branch7x7x3_2", 192, k=(1, 7), pad=(0, 3), row=1)
    bc(d, "branch7x7x3_3", 192, k=(7, 1), pad=(3, 0), row=1)
    b2 = bc(d, "branch7x7x3_4", 192, k=3, s=2, row=1)
    b3 = d.add("MaxPool2d", "pool", {"kernel_size": 3, "stride": 2}, src=x, row=2, col=1)
    concat(d, "cat", [b1, b2, b3], col=5)
    d.add("Output", "y")

    e = block(p, "inception_e", {}, "8×8 module: branches that split into parallel 1×3 and 3×1 convolutions.")
    x = e.add("Input", "x", {"shape": [1280, 8, 8]})
    b1 = bc(e, "branch1x1", 320, src=x, row=0, col=1)
    s3 = bc(e, "branch3x3_1", 384, src=x, row=1, col=1)
    l = bc(e, "branch3x3_2a", 384, k=(1, 3), pad=(0, 1), src=s3, row=1, col=2)
    r = bc(e, "branch3x3_2b", 384, k=(3, 1), pad=(1, 0), src=s3, row=2, col=2)
    b2 = concat(e, "branch3x3", [l, r], col=3)
    bc(e, "branch3x3dbl_1", 448, src=x, row=3, col=1)
    s4 = bc(e, "branch3x3dbl_2", 384, k=3, pad=1, row=3)
    l = bc(e, "branch3x3dbl_3a", 384, k=(1, 3), pad=(0, 1), src=s4, row=3, col=3)
    r = bc(e, "branch3x3dbl_3b", 384, k=(3, 1), pad=(1, 0), src=s4, row=4, col=3)
    b3 = concat(e, "branch3x3dbl", [l, r], col=4)
    e.add("AvgPool2d", "pool", pool_same, src=x, row=5, col=1)
    b4 = bc(e, "branch_pool", 192, row=5)
    concat(e, "cat", [b1, b2, b3, b4], col=5)
    e.add("Output", "y")


def inception_v3(aux=False):
    name = "inception_v3_aux" if aux else "inception_v3"
    # The auxiliary head pools Mixed_6e's grid (8×8 at 160, 17×17 at 299) to 5×5 for its 5×5 conv.
    size, batch = (160, 8) if aux else (96, 16)
    p = new_project(name, "Inception v3" + (" with auxiliary classifier" if aux else ""),
                    "Szegedy et al. 2015: factorised convolutions and five kinds of Inception module on 299×299"
                    + ("; an auxiliary classifier on Mixed_6e adds its loss." if aux else ", one classifier (no auxiliary head)."),
                    "Inception v3 factorises large convolutions into small and asymmetric ones (a 7×7 becomes 1×7 then 7×1) "
                    "and reduces the grid with parallel strided branches, reaching high accuracy at modest cost. "
                    "torchvision's definition; " + AUX_NOTE[aux].format(name="inception_v3")
                    + (" Its auxiliary head pools to 5×5 adaptively (torchvision: 5×5 windows, stride 3), "
                       "so it also trains below 299×299." if aux else ""),
                    [3, 299, 299], DIGITS, image_training(size, batch=batch))
    inception_v3_blocks(p)
    b = Builder(p.add_network("main"))
    b.add("Input", "image", {"shape": [3, 299, 299]})
    bc(b, "Conv2d_1a_3x3", 32, k=3, s=2)
    bc(b, "Conv2d_2a_3x3", 32, k=3)
    bc(b, "Conv2d_2b_3x3", 64, k=3, pad=1)
    b.add("MaxPool2d", "maxpool1", {"kernel_size": 3, "stride": 2})
    bc(b, "Conv2d_3b_1x1", 80)
    bc(b, "Conv2d_4a_3x3", 192, k=3)
    b.add("MaxPool2d", "maxpool2", {"kernel_size": 3, "stride": 2})
    for name, kind, args in (("Mixed_5b", "a", {"pool_features": 32}), ("Mixed_5c", "a", {"pool_features": 64}),
                             ("Mixed_5d", "a", {"pool_features": 64}), ("Mixed_6a", "b", {}),
                             ("Mixed_6b", "c", {"c7": 128}), ("Mixed_6c", "c", {"c7": 160}), ("Mixed_6d", "c", {"c7": 160}),
                             ("Mixed_6e", "c", {"c7": 192}), ("Mixed_7a", "d", {}), ("Mixed_7b", "e", {}), ("Mixed_7c", "e", {})):
        b.add("Block", name, {"block": f"inception_{kind}", **args})
    b.add("AdaptiveAvgPool2d", "avgpool", {"output_size": 1})
    b.add("Dropout", "dropout", {"p": 0.5})
    b.add("Flatten", "flatten")
    b.add("Linear", "fc", {"out_features": "$classes"})
    b.add("Output", "logits", {"classes": 1000})
    if aux:  # torchvision's InceptionAux on Mixed_6e; compiled models return (logits, aux)
        # torchvision pools 5×5 with stride 3, which leaves the 5×5 conv a 5×5 grid only from a 299×299 input
        # (at the 160×160 training size it gets 2×2 and fails); an adaptive pool gives 5×5 at every size.
        head = block(p, "aux_head", {"classes": 1000}, "Auxiliary classifier: average pool to 5×5, 1×1 and 5×5 convs, a dense layer.")
        head.add("Input", "x", {"shape": [768, 17, 17]})
        head.add("AdaptiveAvgPool2d", "pool", {"output_size": 5})
        bc(head, "conv0", 128)
        bc(head, "conv1", 768, k=5)
        head.add("AdaptiveAvgPool2d", "avgpool", {"output_size": 1})
        head.add("Flatten", "flatten")
        head.add("Linear", "fc", {"out_features": "$classes"})
        head.add("Output", "y")
        b.add("Block", "AuxLogits", {"block": "aux_head", "classes": "$classes"}, src="Mixed_6e", row=2)
        b.add("Output", "aux")
    return p


# --- A multi-scale residual network --------------------------------------------------
def multiscale_resnet():
    p = new_project("multiscale_resnet", "Multi-scale ResNet", "A ResNet whose stem feeds three resolutions in parallel, fused before the last stages.",
                    "Multi-scale residual networks look at an image at several resolutions at once: after a shared stem, "
                    "residual stages run on the full, half and quarter grid in parallel, their outputs are brought back "
                    "to one size and concatenated, and a 1×1 convolution fuses them. Coarse branches see wide context "
                    "cheaply; the fine branch keeps detail.",
                    [3, 224, 224], DIGITS, image_training(32))
    residual_blocks(p, "basic")
    b = Builder(p.add_network("main"))
    b.add("Input", "image", {"shape": [3, 224, 224]})
    b.add("Block", "stem", {"block": "conv_bn", "out": 64, "kh": 7, "kw": 7, "stride": 2, "ph": 3, "pw": 3})
    stem = b.add("MaxPool2d", "maxpool", {"kernel_size": 3, "stride": 2, "padding": 1})
    fine = b.add("Block", "fine", {"block": "basic", "out": 64, "repeat": 2}, src=stem, row=0, col=3)
    b.add("AvgPool2d", "half", {"kernel_size": 2}, src=stem, row=1, col=3)
    b.add("Block", "medium", {"block": "stage", "out": 128, "stride": 1, "blocks": 2}, row=1)
    mid = b.add("Upsample", "medium_up", {"scale_factor": 2.0, "mode": "nearest"}, row=1)
    b.add("AvgPool2d", "quarter", {"kernel_size": 4}, src=stem, row=2, col=3)
    b.add("Block", "coarse", {"block": "stage", "out": 256, "stride": 1, "blocks": 2}, row=2)
    coarse = b.add("Upsample", "coarse_up", {"scale_factor": 4.0, "mode": "nearest"}, row=2)
    concat(b, "fuse_cat", [fine, mid, coarse], col=6)
    b.add("Block", "fuse", {"block": "conv_bn", "out": 256})
    b.add("Block", "layer3", {"block": "stage", "out": 256, "stride": 2, "blocks": 2})
    b.add("Block", "layer4", {"block": "stage", "out": 512, "stride": 2, "blocks": 2})
    b.add("AdaptiveAvgPool2d", "avgpool", {"output_size": 1})
    b.add("Flatten", "flatten")
    b.add("Linear", "fc", {"out_features": "$classes"})
    b.add("Output", "logits", {"classes": 1000})
    return p


PRESETS = [lenet5, mlp_xor, alexnet, lambda: vgg("vgg16"), lambda: vgg("vgg19"), lambda: vgg("vgg16_bn", bn=True),
           *(lambda n=n: resnet(n) for n in RESNETS), googlenet, lambda: googlenet(aux=True), inception_v3,
           lambda: inception_v3(aux=True), multiscale_resnet]


def all_presets() -> list:
    """The preset makers of this file and of every `build_*.py` beside it (each lists its own PRESETS)."""
    import importlib.util

    makers = list(PRESETS)
    for path in sorted(HERE.glob("build_*.py")):
        spec = importlib.util.spec_from_file_location(f"presets_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        makers += module.PRESETS
    return makers


def build_all() -> dict[str, str]:
    """Preset name -> the text of its project file."""
    out = {}
    for make in all_presets():
        project = make()
        lay_out_project(project)  # every network and block, top to bottom (docs/architecture.md)
        analyzer = Analyzer(project)  # the gallery shows the parameter count without analysing at start-up
        project.metadata["params"] = sum(analyzer.analyse(n).total_params for n in project.networks)
        out[project.name] = io.dumps(project)
    return out


if __name__ == "__main__":
    for name, text in build_all().items():
        (HERE / f"{name}.json").write_text(text, encoding="utf-8")
        print(f"wrote presets/{name}.json")
