"""Skew of a plate crop: the same arithmetic as `models/src/plate/deskew.rs`.

The angle (whole degrees, ±27; every third, then the neighbours of the best) whose projection of vertical-edge energy is peakiest is the text
line's; the band around the profile's peak gives the oriented crop. Used to make training views
that look like what the Rust reader's deskewed view sees.
"""
import math

import numpy as np

MIN_SKEW_DEG = 3
MAX_SKEW_DEG = 27
COARSE_STEP_DEG = 3
ROWS = 48
BAND_FRACTION = 0.3
BAND_MARGIN = 0.15


def bilinear(g, xs, ys):
    """Samples grey image `g` at pixel-centre coordinates (clamped), like `RgbImage::sample`."""
    h, w = g.shape
    xs = np.clip(xs, 0, w - 1)
    ys = np.clip(ys, 0, h - 1)
    x0 = np.floor(xs).astype(int)
    y0 = np.floor(ys).astype(int)
    x1 = np.minimum(x0 + 1, w - 1)
    y1 = np.minimum(y0 + 1, h - 1)
    fx, fy = xs - x0, ys - y0
    top = g[y0, x0] * (1 - fx) + g[y0, x1] * fx
    bottom = g[y1, x0] * (1 - fx) + g[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def estimate(g, box, max_deg=MAX_SKEW_DEG, step=COARSE_STEP_DEG):
    """(cx, cy, width, height, angle) of the text line in `box` (x0, y0, x1, y1), or None if level."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    if h < 6 or w < 12:
        return None
    scale = ROWS / h
    oh, ow = ROWS, int(min(max(round(w * scale), 8), 10 * ROWS))
    ys = y0 + (np.arange(oh) + 0.5) * h / oh - 0.5
    xs = x0 + (np.arange(ow) + 0.5) * w / ow - 0.5
    a = bilinear(g, xs[None, :].repeat(oh, 0), ys[:, None].repeat(ow, 1))
    edges = np.zeros_like(a)
    edges[:, 1:-1] = np.abs(a[:, 2:] - a[:, :-2])
    dy, dx = np.mgrid[0:oh, 0:ow].astype(np.float32)
    dy, dx = (dy - oh / 2 + 0.5).ravel(), (dx - ow / 2 + 0.5).ravel()
    e = edges.ravel()
    best = None

    def try_angles(degs, best):
        for deg in degs:
            t = math.radians(deg)
            across = -dx * math.sin(t) + dy * math.cos(t) + oh
            bins = np.minimum(np.maximum(np.floor(across), 0), 3 * oh).astype(int)
            prof = np.bincount(bins, weights=e, minlength=3 * oh + 1)
            peak = float(np.sum(prof ** 2))
            if best is None or peak > best[0] or (peak == best[0] and abs(deg) < abs(best[1])):
                best = (peak, deg, prof)
        return best

    # Every third degree, then the neighbours of the best (as deskew.rs).
    best = try_angles(range(-max_deg, max_deg + 1, step), best)
    coarse = best[1]
    best = try_angles([d for d in range(coarse - step + 1, coarse + step)
                       if abs(d) <= max_deg and d != coarse], best)
    _, deg, prof = best
    if abs(deg) < MIN_SKEW_DEG:
        return None
    n = len(prof)
    pad = np.concatenate([[0.0], prof, [0.0]])
    smooth = (pad[:-2] + pad[1:-1] + pad[2:]) / 3
    p = int(np.argmax(smooth))
    if smooth[p] <= 0:
        return None
    floor = BAND_FRACTION * smooth[p]
    lo = p
    while lo > 0 and smooth[lo - 1] > floor:
        lo -= 1
    hi = p
    while hi + 1 < n and smooth[hi + 1] > floor:
        hi += 1
    angle = math.radians(deg)
    centre = ((lo + hi + 1) / 2 - oh) / scale
    thickness = (hi + 1 - lo) / scale
    s, c = math.sin(angle), math.cos(angle)
    bx, by = (x0 + x1) / 2, (y0 + y1) / 2
    return (bx - s * centre, by + c * centre, max((w - thickness * abs(s)) / c, 0.6 * w),
            min(thickness * (1 + 2 * BAND_MARGIN), h), angle)


def sample(g, o, oh, ow):
    """The oriented rectangle `o` of grey image `g` resampled to oh x ow (rectangle coordinates are
    pixel edges, sampling is at pixel centres, as in `views.rs`)."""
    cx, cy, width, height, angle = o
    u = ((np.arange(ow) + 0.5) / ow - 0.5) * width
    v = ((np.arange(oh) + 0.5) / oh - 0.5) * height
    uu, vv = np.meshgrid(u, v)
    s, c = math.sin(angle), math.cos(angle)
    return bilinear(g, cx + uu * c - vv * s - 0.5, cy + uu * s + vv * c - 0.5)
