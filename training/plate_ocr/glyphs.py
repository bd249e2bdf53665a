"""Real-glyph plates: new Moroccan plate texts made by swapping the characters of real training
photos, each box filled with a real glyph of another class.

The Moroccan dev set boxes every character, so a training photo's digits and letter can be
replaced by glyphs cut from the same photo (digits) or from other training photos (digits and
letters), levelled to the target box's ink and background. The plate, its light, blur, tilt and
keystone stay real; only the text changes. 79 real photos with 6 Arabic letter classes between
them become thousands of label combinations, which is what the synthetic renderer's letters
(drawn from Noto fonts, not the plates' own face) do not give.

    python glyphs.py --data ../../../shared/data --per-plate 150 --out .cache/glyph6
    python mix.py --synthetic-from .cache/ds --synthetic-count 30000 --real-from .cache/real5 \
        --real-synthetic-count 0 --extra-from .cache/glyph6 --val-from .cache/ds --out .cache/ft6

`--wear` and `--keystone` add damage (`damage.py`: worn or smudged characters, the plate seen
from the side), `--reshape` distorts the pasted glyphs; all default to 0, which makes v6's set.
Tried for v8 and v9, not kept (model card).

Only the training split (real.py) is used; deterministic for a given seed.
"""
import argparse
import os
import random
from multiprocessing import Pool

import numpy as np
from PIL import Image

import augment
import damage
import gen
import preprocess
import real
import realviews

# YOLO class ids of `labels_yolo_chars` (the set's data.yaml).
CLASS_NAMES = list("0123456789") + ["أ", "ب", "و", "د", "ه", "W", "ش"]
DIGITS = set(range(10))
LETTERS = {10, 11, 12, 13, 14, 16}
# Glyph box padding (share of the box's width and height) so that strokes touching the box stay whole.
PAD_X, PAD_Y = 0.08, 0.06
# Share of views cut along the plate's text line (`realviews.deskewed_view`).
TILTED_SHARE = 0.35


def _padded(b, W, H):
    _, x0, y0, x1, y1 = b
    px, py = PAD_X * (x1 - x0), PAD_Y * (y1 - y0)
    return (max(0, int(x0 - px)), max(0, int(y0 - py)), min(W, int(np.ceil(x1 + px))), min(H, int(np.ceil(y1 + py))))


def _levels(a):
    """Ink and background levels of a glyph patch (dark text on a light plate, or the reverse)."""
    return np.percentile(a, 8), np.percentile(a, 92)


def paste(g, box, glyph):
    """Writes `glyph` (grey patch) into `g` over `box`, resized and levelled to what was there."""
    x0, y0, x1, y1 = box
    if x1 - x0 < 2 or y1 - y0 < 2:
        return False
    target = g[y0:y1, x0:x1]
    src = preprocess.resize(glyph, y1 - y0, x1 - x0)
    t_lo, t_hi = _levels(target)
    s_lo, s_hi = _levels(src)
    if s_hi - s_lo < 8 or t_hi - t_lo < 8:
        return False
    out = (src - s_lo) / (s_hi - s_lo) * (t_hi - t_lo) + t_lo
    # Feather the patch's border over 2 pixels so its edge is not a cue.
    h, w = out.shape
    ry = np.minimum(np.arange(h), np.arange(h)[::-1])[:, None]
    rx = np.minimum(np.arange(w), np.arange(w)[::-1])[None, :]
    alpha = np.clip(np.minimum(ry, rx) / 2.0, 0, 1)
    g[y0:y1, x0:x1] = alpha * out + (1 - alpha) * target
    return True


def bank(rows):
    """Glyph patches of every training photo: {class: [grey patch]}, and per photo its grey
    image, boxed characters, own patches and plate box."""
    all_glyphs, per_photo = {}, []
    for r in rows:
        with Image.open(r["path"]) as im:
            g = preprocess.grey(im)
        H, W = g.shape
        mine = {}
        for b in r["chars"]:
            x0, y0, x1, y1 = _padded(b, W, H)
            patch = g[y0:y1, x0:x1].copy()
            if patch.size == 0:
                continue
            all_glyphs.setdefault(b[0], []).append(patch)
            mine.setdefault(b[0], []).append(patch)
        per_photo.append((g, r["chars"], mine, r["box"]))
    return all_glyphs, per_photo


def swapped(rng, g, boxes, mine, glyphs, reshaped=0.0):
    """A copy of photo `g` with its characters replaced; returns (grey image, tokens).
    `reshaped`: share of pasted glyphs distorted first (`damage.reshape`)."""
    out = g.copy()
    H, W = g.shape
    tokens = []
    for b in boxes:
        c = b[0]
        new, patch = c, None
        if rng.random() < 0.8:
            if c in DIGITS:
                new = rng.randrange(10)
                own = mine.get(new)
                src = own if own and rng.random() < 0.5 else glyphs.get(new)
            elif c in LETTERS:
                new = rng.choice(sorted(LETTERS))
                src = glyphs.get(new)
            else:
                src = None
            if src:
                patch = rng.choice(src)
                if reshaped > 0 and rng.random() < reshaped:
                    patch = damage.reshape(rng, patch)
        if patch is not None and not paste(out, _padded(b, W, H), patch):
            new = c  # nothing pasted: the photo keeps its own character
        tokens.append(CLASS_NAMES[new])
    return out, tokens


def _chunk(args):
    seed, indices, per, worn, keystoned, reshaped = args
    rng = random.Random(seed)
    np.random.seed(seed % 2**31)
    xs, ys = [], []
    for i in indices:
        g, boxes, mine, plate = PER_PHOTO[i]
        for _ in range(per):
            img, tokens = swapped(rng, g, boxes, mine, GLYPHS, reshaped)
            if worn > 0:
                damage.wear(rng, img, boxes, worn)
            scene = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).convert("RGB")
            box = plate
            if keystoned > 0 and rng.random() < keystoned:
                scene, box = damage.keystone(rng, scene, box)
            x0, y0, x1, y1 = box
            if rng.random() < TILTED_SHARE:  # read along the text line, as the Rust reader's deskewed view
                xs.append(realviews.deskewed_view(rng, scene, box))
                ys.append(tokens)
                continue
            if rng.random() < 0.5:
                cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
                scene = scene.rotate(rng.gauss(0, 2.5), resample=Image.BILINEAR, center=(cx, cy))
            xs.append(augment.make(rng, scene, box, False))
            ys.append(tokens)
    return xs, ys


GLYPHS, PER_PHOTO = {}, []


def main():
    global GLYPHS, PER_PHOTO
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--per-plate", type=int, default=150)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", required=True)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--wear", type=float, default=0.0,
                    help="share of characters worn or smudged (damage.wear); 0 reproduces plate-ocr v6's set")
    ap.add_argument("--keystone", type=float, default=0.0,
                    help="share of views seen from the side (damage.keystone); 0 reproduces plate-ocr v6's set")
    ap.add_argument("--reshape", type=float, default=0.0,
                    help="share of pasted glyphs distorted (damage.reshape); 0 reproduces plate-ocr v6's set")
    ap.add_argument("--preview", help="write the first 40 views to this PNG and stop")
    a = ap.parse_args()
    rows = [r for r in real.moroccan(a.data) + real.moroccan(a.data, "moroccan-um6p-train")
            if r["usable"] and r["split"] == "train" and not r["two_rows"]]
    GLYPHS, PER_PHOTO = bank(rows)
    idx = list(range(len(PER_PHOTO)))
    if a.preview:
        xs, ys = _chunk((a.seed, idx[:8], 5, a.wear, a.keystone, a.reshape))
        Image.fromarray(np.concatenate(xs, axis=0)).save(a.preview)
        print("\n".join("".join(t) for t in ys))
        return
    jobs = [(a.seed * 7919 + i, idx[i: i + 4], a.per_plate, a.wear, a.keystone, a.reshape) for i in range(0, len(idx), 4)]
    xs, ys = [], []
    with Pool(a.workers) as pool:  # fork: workers share the bank
        for part in pool.imap(_chunk, jobs):
            xs += part[0]
            ys += part[1]
    x, y, n = gen.pack(xs, ys)
    os.makedirs(a.out, exist_ok=True)
    np.savez(os.path.join(a.out, "train.npz"), x=x, y=y, n=n)
    print(f"{len(x)} real-glyph views of {len(rows)} plates; glyphs per class "
          + ", ".join(f"{CLASS_NAMES[c]} {len(v)}" for c, v in sorted(GLYPHS.items())))


if __name__ == "__main__":
    main()
