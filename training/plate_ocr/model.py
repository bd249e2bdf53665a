"""The plate recogniser: a small convolutional CRNN with CTC output.

Input [N, 1, H, W] grey in [-1, 1] (H x W from `alphabet`, 48 x 240 since v12); output
[N, W/4, C] log-probabilities over `alphabet.CLASSES` (left to right).

The convolutional part (v1-v12) sees about a character's width on each side of a time step. With
`context > 0` (v13) a bidirectional GRU of that many units per direction reads the whole row of
features and adds its output to the convolutional head's logits. Its output layer starts at zero,
so a context model made from a convolutional one (`onnx_init.load`) computes exactly the same
function before training, and learns only what the wider view adds (ignoring a US state name,
keeping a digit the convolutions half-see).
"""
import torch
import torch.nn as nn

import alphabet


def block(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class PlateOcr(nn.Module):
    def __init__(self, widths=(24, 48, 64, 96), classes=len(alphabet.CLASSES), dropout=0.15, context=0):
        super().__init__()
        c1, c2, c3, c4 = widths
        h = alphabet.HEIGHT // 8
        self.features = nn.Sequential(
            *block(1, c1), nn.MaxPool2d(2),
            *block(c1, c2), nn.MaxPool2d(2),
            *block(c2, c3), *block(c3, c3), nn.MaxPool2d((2, 1)),
            *block(c3, c4), *block(c4, c4),
            nn.Conv2d(c4, c4, (h, 1), bias=False), nn.BatchNorm2d(c4), nn.ReLU(inplace=True),
        )
        self.head = nn.Sequential(nn.Conv1d(c4, c4, 3, padding=1), nn.ReLU(inplace=True), nn.Dropout(dropout),
                                  nn.Conv1d(c4, classes, 1))
        self.context = context
        if context:
            self.rnn = nn.GRU(c4, context, batch_first=True, bidirectional=True)
            self.ctx = nn.Linear(2 * context, classes)
            nn.init.zeros_(self.ctx.weight)
            nn.init.zeros_(self.ctx.bias)

    def forward(self, x):
        y = self.features(x).squeeze(2)          # N, C, T
        h = self.head[2](self.head[1](self.head[0](y)))
        logits = self.head[3](h).permute(0, 2, 1)  # N, T, classes
        if self.context:
            r, _ = self.rnn(h.permute(0, 2, 1))
            logits = logits + self.ctx(r)
        return logits.log_softmax(-1)
