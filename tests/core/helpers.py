"""Small networks the core tests build with the API."""

from studio.graph import Project


def chain(net, specs, start=None):
    """Adds (type, name, params) nodes, each fed by the one before (first ports); returns the last id."""
    prev = start
    for type_, name, params in specs:
        nid = net.add_node(type_, name, params)
        if prev is not None:
            net.connect(prev, net.ports(net.node(prev))[1][0], nid, net.ports(net.node(nid))[0][0])
        prev = nid
    return prev


LENET = [("Input", "image", {"shape": [1, 32, 32]}),
         ("Conv2d", "conv1", {"out_channels": 6, "kernel_size": 5}), ("ReLU", "relu1", {}),
         ("MaxPool2d", "pool1", {"kernel_size": 2}),
         ("Conv2d", "conv2", {"out_channels": 16, "kernel_size": 5}), ("ReLU", "relu2", {}),
         ("MaxPool2d", "pool2", {"kernel_size": 2}), ("Flatten", "flatten", {}),
         ("Linear", "fc1", {"out_features": 120}), ("ReLU", "relu3", {}),
         ("Linear", "fc2", {"out_features": 84}), ("ReLU", "relu4", {}),
         ("Linear", "fc3", {"out_features": 10}), ("Output", "logits", {})]


def lenet() -> Project:
    """LeNet-5 on 1×32×32, built node by node."""
    project = Project("lenet")
    chain(project.add_network("main"), LENET)
    return project


def residual_block_project(repeat: int = 2) -> Project:
    """A stem conv, then a residual block (conv-bn-relu-conv-bn + skip) repeated, pooled to 10 classes."""
    project = Project("res")
    block = project.add_block("basic", {"width": 8})
    b = block.network
    x = b.add_node("Input", "x", {"shape": [8, 8, 8]})
    last = chain(b, [("Conv2d", "conv1", {"out_channels": "$width", "kernel_size": 3, "padding": 1}),
                     ("BatchNorm2d", "bn1", {}), ("ReLU", "relu1", {}),
                     ("Conv2d", "conv2", {"out_channels": "$width", "kernel_size": 3, "padding": 1}),
                     ("BatchNorm2d", "bn2", {})], start=x)
    add = b.add_node("Add", "add")
    b.connect(x, "out", add, "a")
    b.connect(last, "out", add, "b")
    chain(b, [("ReLU", "relu2", {}), ("Output", "y", {})], start=add)
    net = project.add_network("main")
    stem = chain(net, [("Input", "image", {"shape": [3, 8, 8]}),
                       ("Conv2d", "stem", {"out_channels": 8, "kernel_size": 3, "padding": 1})])
    blk = net.add_node("Block", "stage", {"block": "basic", "repeat": repeat, "width": 8})
    net.connect(stem, "out", blk, "x")
    pool = net.add_node("GlobalAvgPool", "pool")
    net.connect(blk, "y", pool, "in")
    chain(net, [("Linear", "fc", {"out_features": 10}), ("Output", "logits", {})], start=pool)
    return project
