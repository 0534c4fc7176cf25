"""Forward latency of exported models against the hand-written PyTorch module (CPU, inference mode).

Two networks: LeNet-5 (presets/lenet5.json, 1×32×32) and ResNet-50 (224×224).
The hand-written module is the baseline; ResNet-50 is written here as a
plain nn.Module and brought into the app with `studio.export.import_module`,
so the compiled network is the app's own graph with the same weights. For
batch 1 and 32, each variant (compiled GraphModule, hand-written, TorchScript,
.pt2, onnxruntime) is warmed up, then timed round-robin, one call of each
per round, so drift hits all alike; the figure is the median.

Prints `name: value` lines: NAME_bB_VARIANT_ms, NAME_bB_VARIANT_ratio (over
the hand-written module), export times in seconds and the reported
differences. Target: compiled_ratio within 1.03. About 3-4 minutes on 2 cores.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from studio.compile import compile_network
from studio.export import export, import_module
from studio.graph import io

ROOT = Path(__file__).resolve().parent.parent
REPEATS = {("lenet5", 1): 300, ("lenet5", 32): 60, ("resnet50", 1): 12, ("resnet50", 32): 3}


class HandLeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5)
        self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.relu(self.fc1(x.flatten(1)))
        return self.fc3(torch.relu(self.fc2(x)))


class Bottleneck(nn.Module):
    def __init__(self, cin, width, stride):
        super().__init__()
        cout = width * 4
        self.conv1, self.bn1 = nn.Conv2d(cin, width, 1, bias=False), nn.BatchNorm2d(width)
        self.conv2, self.bn2 = nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width)
        self.conv3, self.bn3 = nn.Conv2d(width, cout, 1, bias=False), nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet50(nn.Module):
    def __init__(self, classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        layers, cin = [], 64
        for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            stage = []
            for i in range(blocks):
                stage.append(Bottleneck(cin, width, stride if i == 0 else 1))
                cin = width * 4
            layers.append(nn.Sequential(*stage))
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2048, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def lenet():
    project = io.load(ROOT / "presets" / "lenet5.json")
    torch.manual_seed(0)
    hand = HandLeNet().eval()
    return project, hand.state_dict(), hand, (1, 32, 32)


def resnet50():
    torch.manual_seed(0)
    hand = ResNet50().eval()
    start = time.perf_counter()
    result = import_module(hand, torch.randn(2, 3, 224, 224), "resnet50")
    print(f"resnet50_import_s: {time.perf_counter() - start:.2f}")
    print(f"resnet50_import_max_diff: {result.max_abs_diff:.2g}")
    print(f"resnet50_nodes: {len(result.project.network().nodes)}")
    return result.project, result.state_dict, hand, (3, 224, 224)


def variants(name, project, state, hand, folder: Path) -> dict:
    compiled = compile_network(project)
    compiled.load_state_dict(state)
    runs = {"compiled": compiled.eval(), "hand": hand}
    for fmt, suffix in (("torchscript", ".pt"), ("pt2", ".pt2"), ("onnx", ".onnx")):
        start = time.perf_counter()
        result = export(project, fmt, folder / f"{name}{suffix}", weights=state)
        print(f"{name}_export_{fmt}_s: {time.perf_counter() - start:.2f}")
        print(f"{name}_export_{fmt}_max_diff: {result.max_abs_diff:.2g}")
        if fmt == "torchscript":
            runs[fmt] = torch.jit.load(str(result.path)).eval()
        elif fmt == "pt2":
            runs[fmt] = torch.export.load(str(result.path)).module()
        else:
            runs[fmt] = _onnx_runner(result.path)
    return runs


def _onnx_runner(path: Path):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    # onnxruntime's threads spin after each run by default, stealing the CPU from the next variant timed
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda x: session.run(None, {name: x.numpy()})


def measure(name: str, runs: dict, shape, batch: int) -> None:
    repeats = REPEATS[(name, batch)]
    x = torch.randn(batch, *shape)
    times = {k: [] for k in runs}
    with torch.inference_mode():
        for fn in runs.values():  # warm-up
            for _ in range(2 if repeats < 20 else 10):
                fn(x)
        order = list(runs)
        for r in range(repeats):
            for k in order[r % len(order):] + order[:r % len(order)]:  # rotate who goes first
                start = time.perf_counter()
                runs[k](x)
                times[k].append((time.perf_counter() - start) * 1000)
    hand = statistics.median(times["hand"])
    for k, ts in times.items():
        ms = statistics.median(ts)
        print(f"{name}_b{batch}_{k}_ms: {ms:.3f}")
        if k != "hand":
            print(f"{name}_b{batch}_{k}_ratio: {ms / hand:.3f}")


def main() -> int:
    print(f"torch_threads: {torch.get_num_threads()}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, build in (("lenet5", lenet), ("resnet50", resnet50)):
            project, state, hand, shape = build()
            runs = variants(name, project, state, hand, Path(tmp))
            for batch in (1, 32):
                measure(name, runs, shape, batch)
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
