"""Crop -> model input, the same arithmetic as `models/src/plate/ocr_input.rs`.

grey = 0.299 R + 0.587 G + 0.114 B; bilinear resize (half-pixel centres) to HEIGHT x WIDTH;
value = (grey / 255 - 0.5) / 0.5. Two-row layout: rows [0, 0.6 H) and [0.4 H, H) are each
resized to HEIGHT x WIDTH/2 and put side by side (top row first).
"""
import numpy as np
from PIL import Image

from alphabet import HEIGHT, WIDTH

TOP_END = 0.6
BOTTOM_START = 0.4


def grey(img):
    a = np.asarray(img.convert("RGB"), dtype=np.float32)
    return a[..., 0] * 0.299 + a[..., 1] * 0.587 + a[..., 2] * 0.114


def resize(g, h, w):
    """Bilinear, half-pixel centres, edge clamp (matches the Rust implementation)."""
    sh, sw = g.shape
    ys = np.clip((np.arange(h) + 0.5) * sh / h - 0.5, 0, sh - 1)
    xs = np.clip((np.arange(w) + 0.5) * sw / w - 0.5, 0, sw - 1)
    y0 = np.floor(ys).astype(int)
    x0 = np.floor(xs).astype(int)
    y1 = np.minimum(y0 + 1, sh - 1)
    x1 = np.minimum(x0 + 1, sw - 1)
    fy = (ys - y0)[:, None]
    fx = (xs - x0)[None, :]
    top = g[y0][:, x0] * (1 - fx) + g[y0][:, x1] * fx
    bot = g[y1][:, x0] * (1 - fx) + g[y1][:, x1] * fx
    return top * (1 - fy) + bot * fy


def layout(g, two_rows):
    """Grey float image -> HEIGHT x WIDTH grey in 0..255."""
    if not two_rows:
        return resize(g, HEIGHT, WIDTH)
    h = g.shape[0]
    top = g[: max(1, int(round(h * TOP_END)))]
    bottom = g[min(h - 1, int(round(h * BOTTOM_START))):]
    return np.concatenate([resize(top, HEIGHT, WIDTH // 2), resize(bottom, HEIGHT, WIDTH // 2)], axis=1)


def to_input(g8):
    return (np.asarray(g8, dtype=np.float32) / 255.0 - 0.5) / 0.5
