"""Hard negatives for a second round of the plate checker (`make train-plate-check-mined`, an
experiment not shipped: MODEL_CARD.md, "Hard negatives").

The first-round checker (trained on `check_data.py`'s windows) rejects what the detector's mask
usually proposes, but a photo holds many more plate-like things than one mask run shows: badges
and model names in chrome letters, lamps, grilles, dealer stickers, lettering on the bodywork.
This script looks at *every* window position of the training photos (the training half of the
real scenes, `data.real_scenes`: the held-back half is never read) at six window sizes (a
pyramid: the photo resized so the window is `WIN_W` pixels wide, windows every third of a
window), scores them all with the first-round checker, and keeps, per photo, the `--per-image`
highest-scoring windows that hold no plate (the rule of `check_data.label`: IoU < 0.1 with every
plate and less than a fifth of any plate inside the window; and less than a tenth of the window
on a plate, so a window inside a large plate is not called a non-plate), each at least `--min-p`
and overlapping no window already kept by 30 % or more. The kept windows are cut again with
`window.view` (the pixels of the Rust checker), from the photo and from a photometrically changed
copy (`check_data.photometric`), and written as `mined_NNN.npz` shards beside the first round's,
as mined negatives (`src` 2; `check_train.py --mined-weight` weighs them). The sets box one plate
per photo, so a window on another car's plate would be taken for a non-plate: a window whose
centre the shipped recogniser reads as plate-like text (four characters or more, two digits or
more) is skipped.

A window depends only on its centre and size (`window.window`: `1.5 * max(w, 2h)` wide, half as
high), so the pyramid covers every box shape at once; the box stored is one such box (w = W/1.5,
h = w/3). Deterministic (every photo's photometric change from its own seed); a shard already
written is kept, so an interrupted run continues.

    python check_mine.py --data ../../../shared/data --checker .cache/plate_check.onnx --out .cache/check-mined
"""
import argparse
import math
import os
import random

import numpy as np
from PIL import Image

import check_data
import data
import window

import alphabet  # noqa: E402,I001  (training/plate_ocr, put on the path by `data`)
import preprocess  # noqa: E402

# Window widths as shares of the photo's longest side: plates from distant (a 40 px plate in a
# 1,000 px photo) to close (a plate across half the photo).
SIZES = (0.08, 0.12, 0.18, 0.27, 0.4, 0.6)
SHARD = 50


def pyramid_windows(img, share):
    """(windows uint8 [N, WIN_H, WIN_W, 3], centres [N, 2], window width) of every window of one
    size, every third of a window, on the photo padded with black by half a window."""
    W = share * max(img.width, img.height)
    s = window.WIN_W / W
    rw, rh = max(1, round(img.width * s)), max(1, round(img.height * s))
    small = np.asarray(img.resize((rw, rh), Image.BILINEAR), dtype=np.uint8)
    px, py = window.WIN_W // 2, window.WIN_H // 2
    pad = np.zeros((rh + 2 * py, rw + 2 * px, 3), dtype=np.uint8)
    pad[py:py + rh, px:px + rw] = small
    sx, sy = window.WIN_W // 3, window.WIN_H // 3
    xs = range(0, pad.shape[1] - window.WIN_W + 1, sx)
    ys = range(0, pad.shape[0] - window.WIN_H + 1, sy)
    view = np.lib.stride_tricks.sliding_window_view(pad, (window.WIN_H, window.WIN_W, 3))[::sy, ::sx, 0]
    view = view[:len(ys), :len(xs)]
    cy, cx = np.meshgrid([(y + window.WIN_H / 2 - py) / s for y in ys],
                         [(x + window.WIN_W / 2 - px) / s for x in xs], indexing="ij")
    return view.reshape(-1, window.WIN_H, window.WIN_W, 3), np.stack([cx.ravel(), cy.ravel()], 1), W


def box_of(cx, cy, W):
    """A box whose window (`window.window`) is centred on (cx, cy) and W wide."""
    w = W / window.GROW
    h = w / 3
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


class Reader:
    """The shipped recogniser (`models/weights/plate-ocr.onnx`, greedy CTC), to veto candidate
    negatives that hold text shaped like a plate: the sets annotate one plate per photo, and a
    second car's plate in the background is a plate, not a hard negative."""

    def __init__(self, path):
        self.sess = check_data.session(path)
        _, _, self.h, self.w = self.sess.get_inputs()[0].shape

    def reads(self, img, boxes):
        grey = preprocess.grey(img)
        xs = []
        for b in boxes:
            x1, y1 = max(0, int(b[0])), max(0, int(b[1]))
            x2, y2 = min(img.width, int(math.ceil(b[2]))), min(img.height, int(math.ceil(b[3])))
            g = grey[y1:y2, x1:x2] if x2 - x1 >= 2 and y2 - y1 >= 2 else np.zeros((2, 2), np.float32)
            xs.append(preprocess.to_input(preprocess.resize(g, self.h, self.w)))
        lp = self.sess.run(None, {"image": np.stack(xs)[:, None].astype(np.float32)})[0]
        return [alphabet.greedy_text(row) for row in lp]


def plate_like(text):
    """At least four characters, two of them digits: what a plate number looks like to the
    recogniser (a maker's badge or a model name does not)."""
    return len(text) >= 4 and sum(c.isdigit() for c in text) >= 2


def centre_boxes(b):
    """The box and its middle half (a smaller plate at the window's centre)."""
    cx, cy, w, h = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[2] - b[0], b[3] - b[1]
    return [b, (cx - w / 4, cy - h / 4, cx + w / 4, cy + h / 4)]


def mine(check, reader, img, truth, per_image, min_p, batch=512):
    """The hardest plate-free boxes of one photo, highest score first: [(box, p)]. A box whose
    centre the recogniser reads as plate-like text (`plate_like`) is skipped."""
    scored = []
    for share in SIZES:
        wins, centres, W = pyramid_windows(img, share)
        ps = []
        for i in range(0, len(wins), batch):
            x = (wins[i:i + batch].astype(np.float32) / 255.0 - 0.5) / 0.5
            ps.append(check(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))[:, 0])
        ps = np.concatenate(ps) if ps else np.zeros(0)
        for j in np.nonzero(ps >= min_p)[0]:
            scored.append((float(ps[j]), box_of(centres[j, 0], centres[j, 1], W)))
    scored.sort(key=lambda v: -v[0])
    kept, seen = [], []
    for p, b in scored:
        if len(kept) >= per_image:
            break
        x, y, W, H = window.window(b)
        rect = (x, y, x + W, y + H)
        on_plate = any(check_data._share_inside(rect, t) >= 0.1 for t in truth)
        if on_plate or check_data.label(b, list(truth), []) != (0, None):
            continue
        if any(data._iou(rect, r) >= 0.3 for r in seen):
            continue
        if any(plate_like(t) for t in reader.reads(img, centre_boxes(b))):
            continue
        seen.append(rect)
        kept.append((b, p))
    return kept


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--checker", required=True, help="the first-round checker (ONNX)")
    ap.add_argument("--reader", default="../../models/weights/plate-ocr.onnx")
    ap.add_argument("--per-image", type=int, default=6)
    ap.add_argument("--min-p", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--loose", type=int, default=0,
                    help="also this many loose boxes per plate, as plates (`loose_NNN.npz`)")
    ap.add_argument("--out", default=".cache/check-mined")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    sess = check_data.session(a.checker)
    check = lambda x: sess.run(None, {"window": x})[0]  # noqa: E731
    reader = Reader(a.reader)
    reals = data.real_scenes(a.data)
    for k in range(math.ceil(len(reals) / SHARD)):
        for kind in ("mined", "loose") if a.loose else ("mined",):
            path = os.path.join(a.out, f"{kind}_{k:03}.npz")
            if not os.path.exists(path):
                shard(kind, path, reals[k * SHARD:(k + 1) * SHARD], k, a, check, reader)


def loose_boxes(rng, t, n):
    """`n` boxes around plate `t` that are too large (1.3-2.5 times its width and height, a
    little off centre) yet still a plate by `check_data.label` (IoU >= 0.3): what the mask
    proposes when it takes in a bumper or a grille with the plate."""
    w, h = t[2] - t[0], t[3] - t[1]
    out = []
    while len(out) < n:
        W, H = w * rng.uniform(1.3, 2.2), h * rng.uniform(1.3, 2.5)
        cx = (t[0] + t[2]) / 2 + rng.uniform(-0.1, 0.1) * W
        cy = (t[1] + t[3]) / 2 + rng.uniform(-0.1, 0.1) * H
        b = (cx - W / 2, cy - H / 2, cx + W / 2, cy + H / 2)
        if data._iou(b, t) >= 0.3:
            out.append(b)
    return out


def shard(kind, path, items, k, a, check, reader):
    """Writes one shard: `mined` (hard negatives, `src` 2) or `loose` (plates in boxes too
    large, `src` 0), each window cut from the photo and from a photometrically changed copy."""
    xs, ys, ts, ps = [], [], [], []
    for j, (p, truth, _) in enumerate(items):
        rng = random.Random(a.seed * 7919 + k * SHARD + j + (0 if kind == "mined" else 1_000_003))
        with Image.open(p) as im:
            img = im.convert("RGB")
        changed = check_data.photometric(rng, img)
        if kind == "mined":
            found = [(b, s, None) for b, s in mine(check, reader, img, truth, a.per_image, a.min_p)]
        else:
            found = [(b, 1.0, t) for t in truth for b in loose_boxes(rng, t, a.loose)]
        for b, score, t in found:
            xs += [window.view(img, b), window.view(changed, b)]
            ys += [0 if t is None else 1] * 2
            ts += [(0.0, 0.0, 0.0, 0.0) if t is None else window.to_window(b, t)] * 2
            ps += [score, score]
    n = len(xs)
    x = np.stack(xs) if xs else np.zeros((0, window.WIN_H, window.WIN_W, 3), np.uint8)
    tmp = path + ".tmp.npz"
    np.savez_compressed(tmp, x=x, y=np.array(ys, np.uint8), t=np.array(ts, np.float32).reshape(n, 4),
                        src=np.full(n, 2 if kind == "mined" else 0, np.uint8))
    os.replace(tmp, path)
    if kind == "mined":
        print(f"{path}: {n} windows, {sum(s >= 0.5 for s in ps)} scored as plates by the first round", flush=True)
    else:
        print(f"{path}: {n} windows of plates in loose boxes", flush=True)


if __name__ == "__main__":
    main()
