"""Hand-written PyTorch versions of the vision presets, written the way torchvision writes them.

They are the baseline the benches compare compiled presets against. Each
model's state_dict keys are mapped onto the compiled model's by position
(same order of parameters and buffers), so both run on the same weights.
"""

from __future__ import annotations

import torch
from torch import nn


def lenet5() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def alexnet() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(), nn.MaxPool2d(3, 2), nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(),
        nn.MaxPool2d(3, 2), nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(), nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2), nn.AdaptiveAvgPool2d(6), nn.Flatten(),
        nn.Dropout(), nn.Linear(9216, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 1000))


def vgg(cfg, bn=False) -> nn.Module:
    layers, cin = [], 3
    for n, width in zip(cfg, (64, 128, 256, 512, 512)):
        for _ in range(n):
            layers += [nn.Conv2d(cin, width, 3, padding=1)] + ([nn.BatchNorm2d(width)] if bn else []) + [nn.ReLU()]
            cin = width
        layers.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(7), nn.Flatten(), nn.Linear(25088, 4096), nn.ReLU(), nn.Dropout(),
                         nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 1000))


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin, planes, stride=1, groups=1, width_per_group=64):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False), nn.BatchNorm2d(planes)
        self.conv2, self.bn2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False), nn.BatchNorm2d(planes)
        self.down = None
        if stride != 1 or cin != planes:
            self.down = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(out + (x if self.down is None else self.down(x)))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride=1, groups=1, width_per_group=64):
        super().__init__()
        width = int(planes * (width_per_group / 64.0)) * groups
        self.conv1, self.bn1 = nn.Conv2d(cin, width, 1, bias=False), nn.BatchNorm2d(width)
        self.conv2, self.bn2 = nn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False), nn.BatchNorm2d(width)
        self.conv3, self.bn3 = nn.Conv2d(width, planes * 4, 1, bias=False), nn.BatchNorm2d(planes * 4)
        self.down = None
        if stride != 1 or cin != planes * 4:
            self.down = nn.Sequential(nn.Conv2d(cin, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = torch.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return torch.relu(out + (x if self.down is None else self.down(x)))


class ResNet(nn.Module):
    def __init__(self, block, counts, groups=1, width_per_group=64):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin, stages = 64, []
        for i, (n, planes) in enumerate(zip(counts, (64, 128, 256, 512))):
            blocks = []
            for j in range(n):
                blocks.append(block(cin, planes, 2 if (i > 0 and j == 0) else 1, groups, width_per_group))
                cin = planes * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.layers = nn.Sequential(*stages)
        self.fc = nn.Linear(cin, 1000)

    def forward(self, x):
        x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        x = self.layers(x)
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


REFERENCES = {
    "lenet5": lenet5, "alexnet": alexnet,
    "vgg16": lambda: vgg((2, 2, 3, 3, 3)), "vgg19": lambda: vgg((2, 2, 4, 4, 4)),
    "vgg16_bn": lambda: vgg((2, 2, 3, 3, 3), bn=True),
    "resnet18": lambda: ResNet(BasicBlock, (2, 2, 2, 2)), "resnet34": lambda: ResNet(BasicBlock, (3, 4, 6, 3)),
    "resnet50": lambda: ResNet(Bottleneck, (3, 4, 6, 3)), "resnet101": lambda: ResNet(Bottleneck, (3, 4, 23, 3)),
    "resnet152": lambda: ResNet(Bottleneck, (3, 8, 36, 3)),
    "resnext50_32x4d": lambda: ResNet(Bottleneck, (3, 4, 6, 3), 32, 4),
    "resnext101_32x8d": lambda: ResNet(Bottleneck, (3, 4, 23, 3), 32, 8),
}


def copy_weights(src: nn.Module, dst: nn.Module) -> None:
    """Copies parameters and buffers by position; the shapes must agree one for one."""
    s, d = src.state_dict(), dst.state_dict()
    s_params = [v for k, v in s.items() if not k.endswith("num_batches_tracked")]
    d_keys = [k for k in d if not k.endswith("num_batches_tracked")]
    assert len(s_params) == len(d_keys), (len(s_params), len(d_keys))
    new = {}
    for key, value in zip(d_keys, s_params):
        assert d[key].shape == value.shape, (key, d[key].shape, value.shape)
        new[key] = value
    dst.load_state_dict(new, strict=False)
