"""Examples for the plate checker (`check_train.py`): the shipped detector's candidate boxes, each
seen through its window (`window.py`), labelled plate / not a plate, with the true plate box.

Candidates come from the detector (`models/weights/plate-detect.onnx`) decoded twice, as shipped
and loosely (lower thresholds, so the near-misses and the plate-like things it almost reports are
in the set), from true boxes jittered (a box a little off, too small, too large: the checker
learns to correct it), from the plate-like distractors `data.make` draws (signs, stickers) and
from random boxes. A candidate is a plate when its IoU with a true
plate is ≥ 0.3 (its target is that plate's box), not a plate when its IoU with every plate is
< 0.1 and its window shows less than a fifth of any plate; in between it is left out.

Images: the training half of the real scenes (moroccan-scenes, OpenALPR br/eu: `data.real_scenes`,
the one split rule; the held-back half is never read here), as they are and photometrically
changed, windows cut from the full-resolution photo; and `data.make` examples (synthetic plates,
distractors, sample-scene frames), windows cut at the detector's scale. Deterministic (every
example from its own seed); written in shards under `--out`, a shard already there is kept, so an
interrupted run continues.

    python check_data.py --data ../../../shared/data --frames .cache/frames --out .cache/check
"""
import argparse
import math
import os
import random

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageEnhance, ImageFilter

import data
import evaluate
import window

LOOSE = dict(threshold=0.2, min_cells=3, min_score=0.3, core=0.8)
SHARD = int(os.environ.get("CHECK_SHARD", 250))


def session(path):
    """A one-thread onnxruntime CPU session (the training scripts run beside other work)."""
    o = ort.SessionOptions()
    o.intra_op_num_threads = 1
    return ort.InferenceSession(path, o, providers=["CPUExecutionProvider"])


def candidates(prob, scale):
    """The detector's boxes as shipped and loosely decoded, duplicates removed."""
    out = []
    for b in evaluate.boxes_of(prob, scale) + evaluate.boxes_of(prob, scale, **LOOSE):
        if all(data._iou(b, o) < 0.95 for o in out):
            out.append(b[:4])
    return out


def jitter(rng, b):
    w, h = b[2] - b[0], b[3] - b[1]
    cx, cy = (b[0] + b[2]) / 2 + rng.gauss(0, 0.12) * w, (b[1] + b[3]) / 2 + rng.gauss(0, 0.15) * h
    w, h = w * math.exp(rng.gauss(0, 0.25)), h * math.exp(rng.gauss(0, 0.3))
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def random_box(rng, W, H, unit):
    w = unit * math.exp(rng.uniform(math.log(14), math.log(200)))
    h = w / rng.uniform(1.3, 5.0)
    x, y = rng.uniform(0, max(1, W - w)), rng.uniform(0, max(1, H - h))
    return (x, y, x + w, y + h)


def label(c, truth, partial):
    """(1, target) a plate, (0, None) not a plate, None left out."""
    best, target = 0.0, None
    for t in truth:
        v = data._iou(c, t)
        if v > best:
            best, target = v, t
    if best >= 0.3:
        return 1, target
    wx, wy, W, H = window.window(c)
    seen = (wx, wy, wx + W, wy + H)
    if best < 0.1 and all(_share_inside(t, seen) < 0.2 for t in truth + partial):
        return 0, None
    return None


def _share_inside(t, w):
    """Share of box `t`'s area inside box `w`."""
    iw = max(0.0, min(t[2], w[2]) - max(t[0], w[0]))
    ih = max(0.0, min(t[3], w[3]) - max(t[1], w[1]))
    return iw * ih / max(1e-6, (t[2] - t[0]) * (t[3] - t[1]))


def examples(rng, img, boxes, truth, partial, unit, signs=()):
    """Windows, labels and targets for `boxes` plus jittered truths, random boxes and the
    distractors drawn (`signs`, as they are and jittered) on `img`."""
    cands = list(boxes)
    for t in truth:
        cands += [jitter(rng, t) for _ in range(3)]
    for s in signs:
        cands += [s, jitter(rng, s)]
    cands += [random_box(rng, img.width, img.height, unit) for _ in range(3)]
    xs, ys, ts = [], [], []
    for c in cands:
        if c[2] - c[0] < 2 or c[3] - c[1] < 2:
            continue
        lab = label(c, truth, partial)
        if lab is None:
            continue
        xs.append(window.view(img, c))
        ys.append(lab[0])
        ts.append(window.to_window(c, lab[1]) if lab[0] else (0.0, 0.0, 0.0, 0.0))
    return xs, ys, ts


def photometric(rng, im):
    im = ImageEnhance.Brightness(im).enhance(rng.uniform(0.5, 1.3))
    im = ImageEnhance.Contrast(im).enhance(rng.uniform(0.6, 1.3))
    if rng.random() < 0.4:
        im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 2.0)))
    if rng.random() < 0.2:
        im = im.convert("L").convert("RGB")
    return im


def shard_real(run, items, k, seed):
    xs, ys, ts, src = [], [], [], []
    for j, (path, truth, _) in enumerate(items):
        rng = random.Random(seed * 7919 + k * SHARD + j)
        with Image.open(path) as im:
            img = im.convert("RGB")
        for variant in range(2):
            v = img if variant == 0 else photometric(rng, img)
            x, s = evaluate.prepare(v)
            boxes = candidates(run(x)[0, 0], s)
            a, b, c = examples(rng, v, boxes, list(truth), [], 1 / s)
            xs, ys, ts, src = xs + a, ys + b, ts + c, src + [0] * len(a)
    return xs, ys, ts, src


def shard_synthetic(run, reals, frames, k, seed):
    xs, ys, ts, src = [], [], [], []
    for j in range(SHARD):
        ex_seed = seed * 1_000_003 + k * SHARD + j
        rng = random.Random(ex_seed ^ 0x5EED)
        a, _, boxes, signs = data.make(ex_seed, reals, frames, with_boxes=True)
        img = Image.fromarray(a)
        x = ((a.astype(np.float32) / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None]
        cands = candidates(run(x)[0, 0], 1.0)
        area = lambda b: max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])  # noqa: E731
        clipped = [(max(0, b[0]), max(0, b[1]), min(data.CROP, b[2]), min(data.CROP, b[3])) for b in boxes]
        truth = [c for b, c in zip(boxes, clipped) if area(b) > 0 and area(c) / area(b) >= 0.6]
        partial = [c for b, c in zip(boxes, clipped) if area(b) > 0 and 0 < area(c) / area(b) < 0.6]
        p, q, r = examples(rng, img, cands, truth, partial, 1.0, signs)
        xs, ys, ts, src = xs + p, ys + q, ts + r, src + [1] * len(p)
    return xs, ys, ts, src


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--frames")
    ap.add_argument("--model", default="../../models/weights/plate-detect.onnx")
    ap.add_argument("--synthetic", type=int, default=6000, help="data.make examples")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--out", default=".cache/check")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    sess = session(a.model)
    run = lambda x: sess.run(None, {"image": x})[0]  # noqa: E731
    reals, frames = data.real_scenes(a.data), data.sample_frames(a.frames)
    jobs = [("real", k) for k in range(math.ceil(len(reals) / SHARD))]
    jobs += [("synthetic", k) for k in range(math.ceil(a.synthetic / SHARD))]
    for kind, k in jobs:
        path = os.path.join(a.out, f"{kind}_{k:03}.npz")
        if os.path.exists(path):
            continue
        if kind == "real":
            xs, ys, ts, src = shard_real(run, reals[k * SHARD:(k + 1) * SHARD], k, a.seed)
        else:
            xs, ys, ts, src = shard_synthetic(run, reals, frames, k, a.seed)
        tmp = path + ".tmp.npz"
        np.savez_compressed(tmp, x=np.stack(xs), y=np.array(ys, np.uint8), t=np.array(ts, np.float32),
                            src=np.array(src, np.uint8))
        os.replace(tmp, path)
        print(f"{path}: {len(ys)} windows, {sum(ys)} plates", flush=True)


if __name__ == "__main__":
    main()
