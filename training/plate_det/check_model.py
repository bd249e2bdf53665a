"""The plate checker: the detector's second look at each candidate box.

Input `[N, 3, 64, 128]` RGB, `(x/255 - 0.5)/0.5`: the window on one candidate (`window.py`).
Output `[N, 5]`: the probability that a plate sits at the window's centre, then that plate's box
(x1, y1, x2, y2) as fractions of the window. Written for this project in plain PyTorch: a 3x3
stride-2 stem, depthwise-separable blocks down to 1/16 (16-32-64-96 channels), a 1x1 reduction
to 32 channels and two fully connected layers over the 4 x 8 map (the box needs the layout, so
no global pooling). About 0.17 M parameters.
"""
import torch
import torch.nn as nn

from model import Sep, conv_bn


class PlateCheck(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            conv_bn(3, 16, 3, 2),                 # 32 x 64
            Sep(16, 32, 2), Sep(32, 32),          # 16 x 32
            Sep(32, 64, 2), Sep(64, 64),          # 8 x 16
            Sep(64, 96, 2), Sep(96, 96),          # 4 x 8
            conv_bn(96, 32, 1),
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(32 * 4 * 8, 128), nn.ReLU(inplace=True), nn.Linear(128, 5))

    def raw(self, x):
        """[N, 5]: plate logit, box fractions."""
        return self.head(self.features(x))

    def forward(self, x):
        r = self.raw(x)
        return torch.cat([torch.sigmoid(r[:, :1]), r[:, 1:]], dim=1)


class Average(nn.Module):
    """Several checkers as one model: the mean of their probabilities and of their boxes (the
    shipped checker averages the two training rounds of `make train-plate-check`). Same input
    and output as `PlateCheck`."""

    def __init__(self, members):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x):
        return torch.stack([m(x) for m in self.members]).mean(dim=0)


if __name__ == "__main__":
    print(sum(p.numel() for p in PlateCheck().parameters()), "parameters")
