"""An EfficientNet-like network in the style of efficientnet_pytorch/model.py (static same padding)."""

import torch
from torch import nn
from torch.nn import functional as F

from effnet_utils import Conv2dStaticSamePadding, Swish


class MBConvBlock(nn.Module):
    def __init__(self, inp, oup, expand_ratio, kernel_size, stride, image_size, se_ratio=0.25):
        super().__init__()
        self.id_skip = stride == 1 and inp == oup
        hidden = inp * expand_ratio
        self._expand_conv = Conv2dStaticSamePadding(inp, hidden, 1, bias=False, image_size=image_size)
        self._bn0 = nn.BatchNorm2d(hidden, momentum=0.01, eps=1e-3)
        self._depthwise_conv = Conv2dStaticSamePadding(hidden, hidden, kernel_size, stride=stride, groups=hidden,
                                                       bias=False, image_size=image_size)
        self._bn1 = nn.BatchNorm2d(hidden, momentum=0.01, eps=1e-3)
        squeezed = max(1, int(inp * se_ratio))
        self._se_reduce = Conv2dStaticSamePadding(hidden, squeezed, 1, image_size=1)
        self._se_expand = Conv2dStaticSamePadding(squeezed, hidden, 1, image_size=1)
        self._project_conv = Conv2dStaticSamePadding(hidden, oup, 1, bias=False, image_size=image_size)
        self._bn2 = nn.BatchNorm2d(oup, momentum=0.01, eps=1e-3)
        self._swish = Swish()

    def forward(self, inputs):
        x = self._swish(self._bn0(self._expand_conv(inputs)))
        x = self._swish(self._bn1(self._depthwise_conv(x)))
        x_squeezed = F.adaptive_avg_pool2d(x, 1)
        x_squeezed = self._se_expand(self._swish(self._se_reduce(x_squeezed)))
        x = torch.sigmoid(x_squeezed) * x
        x = self._bn2(self._project_conv(x))
        if self.id_skip:
            x = x + inputs
        return x


class EfficientNet(nn.Module):
    def __init__(self, num_classes=6, image_size=32):
        super().__init__()
        self._conv_stem = Conv2dStaticSamePadding(3, 16, 3, stride=2, bias=False, image_size=image_size)
        self._bn0 = nn.BatchNorm2d(16, momentum=0.01, eps=1e-3)
        size = image_size // 2
        self._blocks = nn.ModuleList([
            MBConvBlock(16, 16, 1, 3, 1, size),
            MBConvBlock(16, 24, 4, 3, 2, size),
            MBConvBlock(24, 24, 4, 5, 1, size // 2),
        ])
        self._conv_head = Conv2dStaticSamePadding(24, 32, 1, bias=False, image_size=size // 2)
        self._bn1 = nn.BatchNorm2d(32, momentum=0.01, eps=1e-3)
        self._avg_pooling = nn.AdaptiveAvgPool2d(1)
        self._dropout = nn.Dropout(0.2)
        self._fc = nn.Linear(32, num_classes)
        self._swish = Swish()

    def forward(self, inputs):
        x = self._swish(self._bn0(self._conv_stem(inputs)))
        for idx, block in enumerate(self._blocks):
            x = block(x)
        x = self._swish(self._bn1(self._conv_head(x)))
        x = self._avg_pooling(x)
        x = x.flatten(start_dim=1)
        x = self._dropout(x)
        x = self._fc(x)
        return x
