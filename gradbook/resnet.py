"""A small ResNet-18-style convolutional network, written to be read.

The layout is He et al.'s (2016) ImageNet ResNet-18 ("Deep Residual Learning for Image
Recognition", table 1) in the adaptation commonly used for small images: a 3x3 stem instead of the
7x7 convolution and max-pool, then four stages of two *basic blocks* each, global average pooling
and one linear layer. (He et al.'s own CIFAR nets are a different family: three stages of 2n basic
blocks with 16, 32 and 64 filters, 6n + 2 layers, ResNet-20 to ResNet-110.) Counting the stem, the
16 convolutions inside the blocks and the classifier gives the 18 weight layers of the name. `width` sets the channels of the first stage (64 in the paper); each later stage doubles them,
so `width=8` runs on a CPU in milliseconds on 8x8 digits.

Every block computes ``relu(F(x) + shortcut(x))``. The shortcut is the identity when input and output
shapes agree; when a stage halves the resolution and doubles the channels it is a *projection*
(1x1 convolution with stride 2, then batch norm), option (B) of the paper.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm, added to a shortcut, then ReLU.

    With `residual=False` the shortcut is dropped and the block is two plain layers: the "plain"
    counterpart He et al. compare against, same weights and cost, no skip.
    """

    def __init__(
        self, in_channels: int, out_channels: int, stride: int = 1, residual: bool = True
    ) -> None:
        super().__init__()
        self.residual_on = residual
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = projection(in_channels, out_channels, stride) if residual else None

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """F(x): the branch the block learns; the identity path carries x past it."""
        return self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.residual_on:
            return F.relu(self.residual(x))
        return F.relu(self.residual(x) + self.shortcut(x))


def projection(in_channels: int, out_channels: int, stride: int) -> nn.Module:
    """The shortcut: identity if shapes agree, else a 1x1 convolution + batch norm (option B)."""
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
        nn.BatchNorm2d(out_channels),
    )


class ResNet(nn.Module):
    """Stem, stages of basic blocks (the first block of each later stage downsamples), pool, linear.

    `blocks=(2, 2, 2, 2)` is ResNet-18; `(3, 4, 6, 3)` with basic blocks is ResNet-34.
    `residual=False` builds the plain net of the same shape.
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        width: int = 16,
        blocks: Sequence[int] = (2, 2, 2, 2),
        zero_init_residual: bool = False,
        residual: bool = True,
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, stride=1, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
        )
        stages: list[nn.Module] = []
        channels = width
        for i, n in enumerate(blocks):
            out = width * 2**i
            stride = 1 if i == 0 else 2
            layers = [BasicBlock(channels, out, stride, residual)]
            layers += [BasicBlock(out, out, 1, residual) for _ in range(n - 1)]
            stages.append(nn.Sequential(*layers))
            channels = out
        self.stages = nn.Sequential(*stages)
        self.head = nn.Linear(channels, num_classes)
        he_init(self, zero_init_residual)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(x))
        return self.head(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def he_init(model: nn.Module, zero_init_residual: bool = False) -> None:
    """He (Kaiming) normal init for every convolution, BN as the identity, a small linear head.

    He et al. (2015) keep the variance of the signal constant through ReLU layers with
    Var(w) = 2 / fan. `zero_init_residual` starts each block's last BN scale at 0 so that every
    block begins as the identity (Goyal et al. 2017), a common trick for very deep nets.
    """
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.kaiming_uniform_(m.weight, nonlinearity="linear")
            nn.init.zeros_(m.bias)
    if zero_init_residual:
        for m in model.modules():
            if isinstance(m, BasicBlock):
                nn.init.zeros_(m.bn2.weight)


def resnet18(
    in_channels: int = 1, num_classes: int = 10, width: int = 16, residual: bool = True
) -> ResNet:
    """ResNet-18 layout at a chosen width (the paper's ImageNet net has width 64)."""
    return ResNet(in_channels, num_classes, width, blocks=(2, 2, 2, 2), residual=residual)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def structure(model: ResNet, input_shape: Sequence[int]) -> list[dict[str, object]]:
    """One row per top-level piece: name, output shape (without batch) and parameter count.

    Runs one forward pass in eval mode on zeros, so it costs next to nothing.
    """
    rows: list[dict[str, object]] = []
    was_training = model.training
    model.eval()
    with torch.no_grad():
        x = torch.zeros(1, *input_shape)
        x = model.stem(x)
        rows.append(_row("stem", x, model.stem))
        for i, stage in enumerate(model.stages):
            for j, block in enumerate(stage):
                x = block(x)
                kind = shortcut_kind(block)
                rows.append(_row(f"stage{i + 1}.block{j + 1} ({kind})", x, block))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        rows.append({"name": "avgpool", "shape": list(x.shape[1:]), "params": 0})
        x = model.head(x)
        rows.append(_row("linear", x, model.head))
    model.train(was_training)
    return rows


def shortcut_kind(block: BasicBlock) -> str:
    """'identity', 'projection' or 'none' (a plain block)."""
    if block.shortcut is None:
        return "none"
    return "identity" if isinstance(block.shortcut, nn.Identity) else "projection"


def _row(name: str, x: torch.Tensor, module: nn.Module) -> dict[str, object]:
    return {"name": name, "shape": list(x.shape[1:]), "params": count_parameters(module)}
