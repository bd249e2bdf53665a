"""Builds the training and validation arrays (deterministic for a given seed).

    python gen.py --data ../../../shared/data --synthetic 80000 --out .cache/ds
"""
import argparse
import os
import random
from multiprocessing import Pool

import numpy as np
from PIL import Image

import alphabet
import augment
import real
import render

MAX_LABEL = 12


def _synthetic_chunk(args):
    seed, n = args
    rng = random.Random(seed)
    np.random.seed(seed % 2**31)
    xs, ys = [], []
    for _ in range(n):
        scene, box, tokens, two = render.sample(rng)
        xs.append(augment.make(rng, scene, box, two))
        ys.append(tokens)
    return xs, ys


def _real_chunk(args):
    seed, rows, per = args
    rng = random.Random(seed)
    xs, ys = [], []
    for r in rows:
        with Image.open(r["path"]) as im:
            scene = im.convert("RGB")
        for _ in range(per):
            sx, sy = rng.uniform(0.8, 1.25), rng.uniform(0.85, 1.15)
            s = scene
            b = r["box"]
            if abs(sx - 1) > 0.02 or abs(sy - 1) > 0.02:
                s = scene.resize((max(8, int(scene.width * sx)), max(8, int(scene.height * sy))), Image.BILINEAR)
                b = (b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy)
            if rng.random() < 0.5:
                ang = rng.gauss(0, 2.5)
                cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
                s = s.rotate(ang, resample=Image.BILINEAR, center=(cx, cy))
            xs.append(augment.make(rng, s, b, r["two_rows"]))
            ys.append(r["tokens"])
    return xs, ys


def val_view(r):
    """The fixed crop used to score a real item: character box plus 15 % of its height each side."""
    with Image.open(r["path"]) as im:
        scene = im.convert("RGB")
    x0, y0, x1, y1 = r["box"]
    m = 0.15 * (y1 - y0)
    c = scene.crop((max(0, int(x0 - m)), max(0, int(y0 - m)), min(scene.width, int(x1 + m)), min(scene.height, int(y1 + m))))
    import preprocess
    return np.clip(preprocess.layout(preprocess.grey(c), r["two_rows"]) + 0.5, 0, 255).astype(np.uint8)


def pack(xs, ys):
    x = np.stack(xs).astype(np.uint8)
    y = np.zeros((len(ys), MAX_LABEL), dtype=np.int64)
    n = np.zeros(len(ys), dtype=np.int64)
    for i, t in enumerate(ys):
        e = alphabet.encode(t)[:MAX_LABEL]
        y[i, : len(e)] = e
        n[i] = len(e)
    return x, y, n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--synthetic", type=int, default=80000)
    ap.add_argument("--real-per-item", type=int, default=120)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=".cache/ds")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--kind-weights", default="55,20,15,10",
                    help="weights of the synthetic families: Moroccan, European, Brazilian, US")
    ap.add_argument("--mercosur-share", type=float, default=0.5, help="share of Brazilian plates drawn as Mercosul")
    ap.add_argument("--us-emblems", type=float, default=0.0,
                    help="share of two-group US plates with a graphic between the groups")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    # Set before the worker processes start (they inherit them); the defaults change nothing.
    render.KIND_WEIGHTS = [float(v) for v in a.kind_weights.split(",")]
    render.MERCOSUR_SHARE, render.US_EMBLEMS = a.mercosur_share, a.us_emblems
    rows = [r for r in real.all_sets(a.data) if r["usable"]]
    train_rows = [r for r in rows if r["split"] == "train"]
    chunk = 1000
    jobs = [(a.seed * 100003 + i, min(chunk, a.synthetic - i * chunk)) for i in range((a.synthetic + chunk - 1) // chunk)]
    rjobs = [(a.seed * 7919 + i, train_rows[i: i + 8], a.real_per_item) for i in range(0, len(train_rows), 8)]
    xs, ys = [], []
    with Pool(a.workers) as pool:
        for part in pool.imap(_synthetic_chunk, jobs):
            xs += part[0]
            ys += part[1]
        for part in pool.imap(_real_chunk, rjobs):
            xs += part[0]
            ys += part[1]
    x, y, n = pack(xs, ys)
    np.savez(os.path.join(a.out, "train.npz"), x=x, y=y, n=n)
    vrows = [r for r in rows if r["split"] == "val"]
    vx, vy, vn = pack([val_view(r) for r in vrows], [r["tokens"] for r in vrows])
    kind = np.array([r["set"] for r in vrows])
    np.savez(os.path.join(a.out, "val.npz"), x=vx, y=vy, n=vn, kind=kind)
    sx, sy = _synthetic_chunk((a.seed + 999331, 2000))
    sx, sy, sn = pack(sx, sy)
    np.savez(os.path.join(a.out, "val_synth.npz"), x=sx, y=sy, n=sn)
    print(f"train {len(x)} (synthetic {a.synthetic}, real items {len(train_rows)} x {a.real_per_item}); val real {len(vx)}")


if __name__ == "__main__":
    main()
