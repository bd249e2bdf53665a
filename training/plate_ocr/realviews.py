"""Training views of the real plates for a fine-tune: the usual augmented crops plus views along
the plate's own axis (what the Rust reader's deskewed view sees, `deskew.py`).

    python realviews.py --data ../../../shared/data --out .cache/real5
    python mix.py --synthetic-from .cache/ds --synthetic-count 30000 --real-from .cache/real5 \
        --real-synthetic-count 0 --val-from .cache/ds --out .cache/ft5

Only the training split (real.py) is used; deterministic for a given seed.
"""
import argparse
import math
import os
import random
from multiprocessing import Pool

import numpy as np
from PIL import Image

import augment
import deskew
import gen
import preprocess
import real

# Skew searched for training views: the views' tilts are drawn within ±14°, and plate-ocr v2's
# training views were made when the reader searched ±15° (so they are reproduced exactly).
VIEW_MAX_SKEW_DEG = 15


def _rotated_box(b, angle_deg, cx, cy):
    """Axis-aligned box of `b`'s corners after PIL's `rotate(angle_deg, center=(cx, cy))`."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    xs, ys = [], []
    for x, y in ((b[0], b[1]), (b[2], b[1]), (b[0], b[3]), (b[2], b[3])):
        dx, dy = x - cx, y - cy
        xs.append(cx + dx * c + dy * s)
        ys.append(cy - dx * s + dy * c)
    return min(xs), min(ys), max(xs), max(ys)


def _on_plate(o, cx, cy, text_h):
    """Whether the oriented crop holds the plate's text line: its centre line passes near the
    plate's centre and its height suits the characters' height."""
    ox, oy, _, height, angle = o
    off = -(cx - ox) * math.sin(angle) + (cy - oy) * math.cos(angle)
    return abs(off) < 0.3 * height and 0.7 * text_h < height < 2.2 * text_h


def deskewed_view(rng, scene, box, step=deskew.COARSE_STEP_DEG):
    """A tilted, loosely boxed plate read along its own axis, then degraded like any view."""
    ang = max(-14.0, min(14.0, rng.gauss(0, 7)))
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    s = scene.rotate(ang, resample=Image.BILINEAR, center=(cx, cy))
    b = _rotated_box(box, ang, cx, cy)
    m = rng.uniform(0.08, 0.25) * (b[3] - b[1])
    b = (max(0, b[0] - m), max(0, b[1] - m), min(s.width, b[2] + m), min(s.height, b[3] + m))
    g = preprocess.grey(s)
    o = deskew.estimate(g, b, VIEW_MAX_SKEW_DEG, step)
    if o is not None and not _on_plate(o, cx, cy, box[3] - box[1]):
        o = None  # the band found is not the plate's text line: a label would not fit it
    if o is None:
        crop = g[int(b[1]):int(math.ceil(b[3])), int(b[0]):int(math.ceil(b[2]))]
    else:
        crop = deskew.sample(g, o, max(8, int(round(o[3]))), max(16, int(round(o[2]))))
    im = Image.fromarray(np.clip(crop, 0, 255).astype(np.uint8)).convert("RGB")
    g = augment.degrade(rng, im)
    return np.clip(preprocess.layout(g, False) + 0.5, 0, 255).astype(np.uint8)


def _chunk(args):
    seed, rows, plain, tilted, step = args
    rng = random.Random(seed)
    np.random.seed(seed % 2**31)
    xs, ys = gen._real_chunk((seed, rows, plain))
    for r in rows:
        if r["two_rows"]:
            continue
        with Image.open(r["path"]) as im:
            scene = im.convert("RGB")
        for _ in range(tilted):
            xs.append(deskewed_view(rng, scene, r["box"], step))
            ys.append(r["tokens"])
    return xs, ys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--plain", type=int, default=60, help="augmented crops per plate")
    ap.add_argument("--tilted", type=int, default=40, help="deskewed views per one-row plate")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--deskew-step", type=int, default=1,
                    help="skew search step (degrees): plate-ocr v2's views were made with every degree (1); the reader uses 3")
    ap.add_argument("--out", required=True)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rows = [r for r in real.all_sets(a.data) if r["usable"] and r["split"] == "train"]
    jobs = [(a.seed * 7919 + i, rows[i: i + 8], a.plain, a.tilted, a.deskew_step) for i in range(0, len(rows), 8)]
    xs, ys = [], []
    with Pool(a.workers) as pool:
        for part in pool.imap(_chunk, jobs):
            xs += part[0]
            ys += part[1]
    x, y, n = gen.pack(xs, ys)
    np.savez(os.path.join(a.out, "train.npz"), x=x, y=y, n=n)
    print(f"{len(x)} real views of {len(rows)} plates")


if __name__ == "__main__":
    main()
