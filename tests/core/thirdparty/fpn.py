"""A feature pyramid decoder: F.interpolate to another map's size, and by a factor with align_corners."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class FPN(nn.Module):
    def __init__(self, width=8, classes=3):
        super().__init__()
        self.c1 = nn.Conv2d(3, width, 3, stride=2, padding=1)
        self.c2 = nn.Conv2d(width, width * 2, 3, stride=2, padding=1)
        self.c3 = nn.Conv2d(width * 2, width * 4, 3, stride=2, padding=1)
        self.lat2 = nn.Conv2d(width * 2, width, 1)
        self.lat3 = nn.Conv2d(width * 4, width, 1)
        self.head = nn.Conv2d(width, classes, 3, padding=1)

    def forward(self, x):
        c1 = F.relu(self.c1(x))
        c2 = F.relu(self.c2(c1))
        c3 = F.relu(self.c3(c2))
        p3 = self.lat3(c3)
        p2 = self.lat2(c2) + F.interpolate(p3, size=c2.shape[-2:], mode="nearest")
        p1 = c1 + F.interpolate(p2, scale_factor=2, mode="bilinear", align_corners=True)
        return self.head(F.pad(p1, (1, 1, 1, 1), mode="reflect"))
