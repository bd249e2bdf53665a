"""The plate detector: a small fully convolutional network that marks plate pixels.

Input `[N, 3, H, W]` RGB, `(x/255 - 0.5)/0.5`, H and W multiples of 32 (the node letterboxes a
frame so that its longest side is 512). Output `[N, 1, H/4, W/4]`: the probability that each
4x4 cell lies on a licence plate. Plates are the connected components of that map (the Rust
decoder, `models/src/plate/detector.rs`), so plates of any size or aspect ratio, one-row or
two-row, come out of the same map without anchors or NMS.

Backbone: a 3x3 stem and depthwise-separable blocks down to 1/32, a feature pyramid back up to
1/4 (each level: 1x1 lateral, upsample and add, depthwise-separable smoothing), a 3x3 + 1x1 head.
About 0.17 M parameters.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn(cin, cout, k=3, stride=1, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class Sep(nn.Module):
    """Depthwise 3x3 then pointwise 1x1, with a residual when shapes allow."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.dw = conv_bn(cin, cin, 3, stride, groups=cin)
        self.pw = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.pw(self.dw(x))
        return F.relu(y + x if self.residual else y)


class PlateDet(nn.Module):
    def __init__(self, widths=(16, 32, 64, 128, 160), fpn=48):
        super().__init__()
        c1, c2, c3, c4, c5 = widths
        self.stem = conv_bn(3, c1, 3, 2)                                    # 1/2
        self.s4 = nn.Sequential(Sep(c1, c2, 2), Sep(c2, c2))                # 1/4
        self.s8 = nn.Sequential(Sep(c2, c3, 2), Sep(c3, c3), Sep(c3, c3))   # 1/8
        self.s16 = nn.Sequential(Sep(c3, c4, 2), Sep(c4, c4), Sep(c4, c4))  # 1/16
        self.s32 = nn.Sequential(Sep(c4, c5, 2), Sep(c5, c5), Sep(c5, c5))  # 1/32
        self.lat = nn.ModuleList([nn.Conv2d(c, fpn, 1) for c in (c2, c3, c4, c5)])
        self.smooth = nn.ModuleList([Sep(fpn, fpn) for _ in range(3)])
        self.head = nn.Sequential(conv_bn(fpn, 16, 3), nn.Conv2d(16, 1, 1))

    def logits(self, x):
        f4 = self.s4(self.stem(x))
        f8 = self.s8(f4)
        f16 = self.s16(f8)
        f32 = self.s32(f16)
        p = self.lat[3](f32)
        for lat, smooth, f in zip((self.lat[2], self.lat[1], self.lat[0]), self.smooth, (f16, f8, f4)):
            p = smooth(lat(f) + F.interpolate(p, size=f.shape[-2:], mode="nearest"))
        return self.head(p)

    def forward(self, x):
        return torch.sigmoid(self.logits(x))


if __name__ == "__main__":
    import time
    m = PlateDet().eval()
    print(sum(p.numel() for p in m.parameters()), "parameters")
    torch.set_num_threads(2)
    x = torch.zeros(1, 3, 288, 512)
    with torch.no_grad():
        for _ in range(3):
            m(x)
        t = time.time()
        for _ in range(10):
            m(x)
    print(f"{(time.time() - t) / 10 * 1000:.1f} ms per 512x288 (torch, eval)")
