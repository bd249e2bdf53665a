"""Damage the real plates of `glyphs.py` the way streets do: worn paint and smudges on the
characters, and the keystone of a plate seen from the side; and vary the real glyphs' shapes
(`reshape`: elastic distortion, bolder or thinner strokes) so that the few real letters of the
training photos stand for more hands and fonts.

Moroccan plates are often old: strokes lose their paint (a `9` with a broken loop reads `3`, a
worn `د` reads `ه`), dirt lies across letters, and a kerb-side or body camera sees the plate
from the side, so its far end is shorter and its verticals lean. The reader must read them
anyway; these views show the model such plates with labels it can trust (the glyph boxes say
which character each damaged patch is).
"""
import math

import numpy as np
from PIL import Image, ImageFilter

from deskew import bilinear
from render import perspective_coeffs


def _ellipses(rng, h, w, count, rx_share, ry_share):
    """A soft mask (0..1) of `count` random ellipses in an h x w box, sized by the box height."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    mask = np.zeros((h, w), np.float32)
    for _ in range(count):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        rx = max(1.0, rng.uniform(*rx_share) * h)
        ry = max(1.0, rng.uniform(*ry_share) * h)
        t = rng.uniform(-0.6, 0.6)
        c, s = math.cos(t), math.sin(t)
        u, v = (xx - cx) * c + (yy - cy) * s, -(xx - cx) * s + (yy - cy) * c
        mask = np.maximum(mask, ((u / rx) ** 2 + (v / ry) ** 2 <= 1).astype(np.float32))
    soft = Image.fromarray((mask * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(max(0.6, h / 60)))
    return np.asarray(soft, np.float32) / 255.0


def wear(rng, g, boxes, share):
    """Worn paint (ink patches lifted to the plate's background) or a smudge (a dark blot) on
    `share` of the character boxes of grey image `g`, in place. `boxes` are (class, x0, y0,
    x1, y1) pixels."""
    H, W = g.shape
    for b in boxes:
        if rng.random() >= share:
            continue
        x0, y0 = max(0, int(b[1])), max(0, int(b[2]))
        x1, y1 = min(W, int(math.ceil(b[3]))), min(H, int(math.ceil(b[4])))
        if x1 - x0 < 4 or y1 - y0 < 6:
            continue
        patch = g[y0:y1, x0:x1]
        ink, paper = np.percentile(patch, 8), np.percentile(patch, 92)
        if paper - ink < 10:
            continue
        h, w = patch.shape
        if rng.random() < 0.7:  # paint loss: blobs and scratches where the ink is gone
            m = _ellipses(rng, h, w, rng.randint(1, 4), (0.06, 0.3), (0.03, 0.14))
            lifted = paper - np.abs(np.random.default_rng(rng.randint(0, 2**31)).normal(0, 4, patch.shape))
            keep_paper = patch > ink + 0.5 * (paper - ink)  # what is already paper stays as it is
            lifted = np.where(keep_paper, patch, lifted)
            patch[:] = patch * (1 - m) + lifted * m
        else:  # smudge: a dark, half-transparent blot across part of the character
            m = _ellipses(rng, h, w, rng.randint(1, 2), (0.1, 0.35), (0.08, 0.25)) * rng.uniform(0.3, 0.7)
            patch[:] = patch * (1 - m) + ink * m


def keystone(rng, scene, box):
    """`scene` warped so that the plate in `box` is seen from one side: its far end shorter
    (60–95 % of the near end's height), foreshortened, its verticals leaning. Returns the
    warped crop around the plate and the plate's new box in it."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    m = 1.2 * h  # context kept around the plate
    cx0, cy0 = max(0, int(x0 - m)), max(0, int(y0 - m))
    cx1, cy1 = min(scene.width, int(math.ceil(x1 + m))), min(scene.height, int(math.ceil(y1 + m)))
    part = scene.crop((cx0, cy0, cx1, cy1))
    bx0, by0, bx1, by1 = x0 - cx0, y0 - cy0, x1 - cx0, y1 - cy0
    far = rng.uniform(0.6, 0.95)
    width = w * rng.uniform(0.75, 1.0)
    lean = rng.uniform(-0.25, 0.25) * h  # top edge offset against the bottom edge (italic)
    drop = rng.gauss(0, 0.08) * w  # far end's centre above or below the near end's
    mid = (by0 + by1) / 2
    near_x, far_x = (bx0, bx0 + width) if rng.random() < 0.5 else (bx1, bx1 - width)
    near = [(near_x + lean / 2, by0), (near_x - lean / 2, by1)]
    far_pts = [(far_x + lean * far / 2, mid + drop - far * h / 2), (far_x - lean * far / 2, mid + drop + far * h / 2)]
    if near_x < far_x:
        dst = [near[0], far_pts[0], far_pts[1], near[1]]
    else:
        dst = [far_pts[0], near[0], near[1], far_pts[1]]
    src = [(bx0, by0), (bx1, by0), (bx1, by1), (bx0, by1)]
    out = part.transform(part.size, Image.PERSPECTIVE, perspective_coeffs(src, dst), resample=Image.BILINEAR)
    xs, ys = [p[0] for p in dst], [p[1] for p in dst]
    return out, (max(0.0, min(xs)), max(0.0, min(ys)), min(float(out.width), max(xs)), min(float(out.height), max(ys)))


def _smooth_field(nrng, h, w, sigma):
    """A random displacement field (h x w), Gaussian-smoothed, scaled to unit peak."""
    f = Image.fromarray(((nrng.random((h, w)) * 255)).astype(np.uint8)).filter(ImageFilter.GaussianBlur(sigma))
    a = np.asarray(f, np.float32) - 127.5
    peak = np.abs(a).max()
    return a / peak if peak > 0 else a


def reshape(rng, patch):
    """A glyph patch (grey, ink darker or lighter than its paper) elastically distorted (smooth
    displacements of 2–6 % of its height) and, half the time, with strokes made bolder or
    thinner by a grey-level min/max filter about 1/30 of its height wide."""
    h, w = patch.shape
    if h < 8 or w < 4:
        return patch
    nrng = np.random.default_rng(rng.randint(0, 2**31))
    amp = rng.uniform(0.02, 0.06) * h
    sigma = max(1.0, rng.uniform(0.12, 0.25) * h)
    dx, dy = _smooth_field(nrng, h, w, sigma) * amp, _smooth_field(nrng, h, w, sigma) * amp
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = bilinear(patch, xx + dx, yy + dy)
    if rng.random() < 0.5:
        k = max(3, int(round(h / 30)) | 1)
        dark_ink = np.median(patch) > (patch.min() + patch.max()) / 2
        bolder = rng.random() < 0.5
        # Dark ink grows under a min filter, light ink under a max filter.
        grow = ImageFilter.MinFilter(k) if dark_ink else ImageFilter.MaxFilter(k)
        shrink = ImageFilter.MaxFilter(k) if dark_ink else ImageFilter.MinFilter(k)
        im = Image.fromarray(np.clip(out, 0, 255).astype(np.uint8)).filter(grow if bolder else shrink)
        out = np.asarray(im, np.float32)
    return out
