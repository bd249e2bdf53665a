"""The plate checker's view of one candidate box: the arithmetic of the Rust `models/src/plate/check.rs`.

A candidate box (x1, y1, x2, y2) in image pixels is looked at through a window centred on it,
`1.5 * max(w, 2h)` wide and half as high (so a plate of any aspect, one- or two-row, a box a
little too small or too large, all sit inside with some context), resized to `WIN_W x WIN_H`
with Pillow's bilinear filter (antialiased; `models/src/resample.rs` has the same arithmetic),
black where the window leaves the image. The checker answers whether the window holds a plate at
its centre and the plate's box as fractions of the window.
"""
import math

import numpy as np
from PIL import Image

WIN_W, WIN_H = 128, 64
GROW = 1.5


def window(box):
    """(x, y, w, h) of the window looking at `box`."""
    x1, y1, x2, y2 = box[:4]
    w, h = max(1.0, x2 - x1), max(1.0, y2 - y1)
    W = GROW * max(w, 2 * h)
    H = W / 2
    return ((x1 + x2) / 2 - W / 2, (y1 + y2) / 2 - H / 2, W, H)


def view(img, box):
    """uint8 [WIN_H, WIN_W, 3] of the window on `box` of a PIL RGB image."""
    x, y, W, H = window(box)
    out = np.zeros((WIN_H, WIN_W, 3), dtype=np.uint8)
    ix0, iy0 = max(0.0, x), max(0.0, y)
    ix1, iy1 = min(float(img.width), x + W), min(float(img.height), y + H)
    if ix1 <= ix0 or iy1 <= iy0:
        return out
    r = lambda v: math.floor(v + 0.5)  # noqa: E731  (Rust's f32::round for the values seen here)
    px0, py0 = r((ix0 - x) * WIN_W / W), r((iy0 - y) * WIN_H / H)
    px1, py1 = r((ix1 - x) * WIN_W / W), r((iy1 - y) * WIN_H / H)
    if px1 <= px0 or py1 <= py0:
        return out
    part = img.resize((px1 - px0, py1 - py0), Image.BILINEAR, box=(ix0, iy0, ix1, iy1))
    out[py0:py1, px0:px1] = np.asarray(part, dtype=np.uint8)
    return out


def to_window(box, target):
    """`target` box as fractions of the window on `box`."""
    x, y, W, H = window(box)
    return ((target[0] - x) / W, (target[1] - y) / H, (target[2] - x) / W, (target[3] - y) / H)


def from_window(box, frac):
    """Inverse of `to_window`."""
    x, y, W, H = window(box)
    return (x + frac[0] * W, y + frac[1] * H, x + frac[2] * W, y + frac[3] * H)
