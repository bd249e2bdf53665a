"""Training scenes for the plate detector, each drawn from its own seed (deterministic).

Real photos: the training half of `moroccan-scenes` (split by plate text) and of OpenALPR
`br`/`eu` (split by file), with the one split rule of the recogniser (`plate_ocr/real.py`: the
held-back 40 % is never trained on). Synthetic: plates from the recogniser's renderer
(`plate_ocr/render.py`: Moroccan one- and two-row, WW, EU, Brazilian, US) pasted in perspective
onto those photos, onto frames of the project's own sample scenes (`raqib samples make`, exact
boxes in `truth.json`) and onto random backgrounds, at 12-220 px wide, with plate-like
distractors (shop signs, stickers, number boards with no plate shape) that must not be found.
"""
import json
import math
import os
import random
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(HERE, "..", "plate_ocr"))
import real  # noqa: E402
import render  # noqa: E402

# The model's input: longest side 512 at inference; training crops are CROP x CROP.
SIDE = 512
CROP = 384
STRIDE = 4


def real_scenes(data, split="train", closeups=False):
    """[(image path, [boxes], set)] of the real scene sets, one split. With `closeups`, the UM6P
    close-ups too (both folders, same split rule; the box is the union of the character boxes,
    the box `raqib eval plates` scores them with)."""
    rows = real.scenes(data) + real.openalpr(data)
    if closeups:
        rows += real.moroccan(data) + real.moroccan(data, "moroccan-um6p-train")
    return [(r["path"], [r["box"]], r["set"]) for r in rows if r["split"] == split]


def sample_frames(root):
    """[(image path, [boxes])] of frames extracted from sample scenes (see `frames.sh`): each scene
    folder holds `truth.json` and `frames/NNNNN.jpg` named by frame index."""
    out = []
    if not root or not os.path.isdir(root):
        return out
    for scene in sorted(os.listdir(root)):
        d = os.path.join(root, scene)
        t = os.path.join(d, "truth.json")
        if not os.path.exists(t):
            continue
        with open(t) as f:
            truth = json.load(f)
        by_index = {fr["index"]: fr for fr in truth["per_frame"]}
        for name in sorted(os.listdir(os.path.join(d, "frames"))):
            i = int(os.path.splitext(name)[0])
            fr = by_index.get(i)
            if fr is None:
                continue
            boxes = [tuple(b["box"]) for b in fr["plates"] if b["visible"] >= 0.3]
            out.append((os.path.join(d, "frames", name), boxes, "samples"))
    return out


def _perspective_paste(rng, canvas, plate_rgba, width):
    """Pastes the plate at `width` px with a random tilt/keystone; returns its box or None."""
    pw, ph = plate_rgba.size
    w = width
    h = w * ph / pw * rng.uniform(0.8, 1.15)
    W, H = canvas.size
    if w >= W * 0.95 or h >= H * 0.95:
        return None
    x0, y0 = rng.uniform(0, W - w), rng.uniform(0, H - h)
    ang = math.radians(rng.gauss(0, 6))
    skx = rng.gauss(0, 0.08) * w
    cx, cy = x0 + w / 2, y0 + h / 2
    pts = []
    for (u, v) in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)):
        u += skx * (v / h) + rng.gauss(0, 0.02 * w)
        v += rng.gauss(0, 0.04 * h)
        pts.append((cx + u * math.cos(ang) - v * math.sin(ang), cy + u * math.sin(ang) + v * math.cos(ang)))
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    bx0, by0, bx1, by1 = max(0, min(xs)), max(0, min(ys)), min(W, max(xs)), min(H, max(ys))
    if bx1 - bx0 < 6 or by1 - by0 < 3:
        return None
    ox, oy = int(math.floor(bx0)), int(math.floor(by0))
    tw, th = int(math.ceil(bx1)) - ox, int(math.ceil(by1)) - oy
    local = [(x - ox, y - oy) for x, y in pts]
    coeffs = render.perspective_coeffs([(0, 0), (pw, 0), (pw, ph), (0, ph)], local)
    im = plate_rgba.transform((tw, th), Image.PERSPECTIVE, coeffs, Image.BILINEAR)
    rgb = im.convert("RGB")
    if rng.random() < 0.7:
        rgb = ImageEnhance.Brightness(rgb).enhance(rng.uniform(0.5, 1.15))
    if rng.random() < 0.3:
        rgb = rgb.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2) * max(1.0, tw / 120)))
    canvas.paste(rgb, (ox, oy), im.split()[3])
    return (bx0, by0, bx1, by1)


WORDS = ["PHARMACIE", "CAFE", "HOTEL", "BOULANGERIE", "TAXI", "STOP", "PARKING", "بنك", "مقهى", "صيدلية",
         "SALE", "OPEN", "0522 45 67 89", "TEL 0661 234 567", "AUTO ECOLE", "GARAGE", "RESTAURANT", "BANK",
         "SORTIE", "الدار البيضاء", "ZONE 30", "A7", "N1", "DIESEL 12.45", "2024", "EXIT 12", "POLICE"]


def _distractor(rng, canvas, boxes):
    """Draws text that is not a plate (a sign, a sticker, a board, a long strip) where it covers
    no plate; returns its box (None when there was no room)."""
    W, H = canvas.size
    txt = rng.choice(WORDS)
    arabic = not txt.isascii()
    f = rng.choice(render.ARABIC_FONTS if arabic else render.LATIN_FONTS)
    colour = tuple(rng.randint(0, 255) for _ in range(3))
    ink = tuple(255 - c for c in colour) if rng.random() < 0.7 else tuple(rng.randint(0, 255) for _ in range(3))
    g = render.glyphs(txt, f, ink + (255,), rtl=arabic)
    h = rng.uniform(8, 60)
    w = h * g.width / g.height * rng.uniform(0.8, 1.3)
    if w > W * 0.9:
        return None
    lines = rng.choice([1, 1, 2, 3])
    pad = h * rng.uniform(0.1, 0.6)
    bw, bh = w + 2 * pad, lines * h * 1.2 + 2 * pad
    for _ in range(6):
        x0, y0 = rng.uniform(0, max(1, W - bw)), rng.uniform(0, max(1, H - bh))
        if all(x0 > b[2] or x0 + bw < b[0] or y0 > b[3] or y0 + bh < b[1] for b in boxes):
            break
    else:
        return None
    d = ImageDraw.Draw(canvas)
    if rng.random() < 0.6:
        d.rectangle([x0, y0, x0 + bw, y0 + bh], fill=colour)
    gi = g.resize((max(1, int(w)), max(1, int(h))), Image.BILINEAR)
    for i in range(lines):
        canvas.paste(gi.convert("RGB"), (int(x0 + pad), int(y0 + pad + i * h * 1.2)), gi.split()[3])
    return (x0, y0, x0 + bw, y0 + bh)


def _background(rng, w, h):
    return render.background(rng, w, h).filter(ImageFilter.GaussianBlur(rng.uniform(0, 2)))


def make(seed, reals, frames, closeup=0.0, with_boxes=False):
    """One training example: (uint8 HxWx3 crop, float32 H/4 x W/4 target mask), and with
    `with_boxes` the plates' and the distractors' boxes in crop pixels (some may reach outside
    the crop). With
    probability `closeup` the scene is zoomed so one plate is 120-400 px wide, as in a close-up
    photo or a gate camera (the node reads such stills whole at 512 px)."""
    rng = random.Random(seed)
    kind = rng.random()
    if kind < 0.25 and frames:
        path, boxes, _ = frames[rng.randrange(len(frames))]
        with Image.open(path) as im:
            scene = im.convert("RGB")
        boxes = list(boxes)
        pastes = rng.choice([0, 0, 1, 2])
    elif kind < 0.85 and reals:
        path, boxes, _ = reals[rng.randrange(len(reals))]
        with Image.open(path) as im:
            scene = im.convert("RGB")
        boxes = list(boxes)
        pastes = rng.choice([0, 0, 1, 1, 2, 3])
    else:
        scene = _background(rng, rng.choice([640, 800, 1280]), rng.choice([480, 640, 720]))
        boxes = []
        pastes = rng.choice([1, 2, 3, 4])
    # Scale as the node would (longest side 512), with a random zoom.
    s = SIDE / max(scene.size) * math.exp(rng.uniform(math.log(0.6), math.log(1.5)))
    if boxes and closeup and rng.random() < closeup:
        b = boxes[rng.randrange(len(boxes))]
        s = max(s, math.exp(rng.uniform(math.log(120), math.log(400))) / max(1.0, b[2] - b[0]))
        s = min(s, 4096 / max(scene.size))
    scene = scene.resize((max(8, int(scene.width * s)), max(8, int(scene.height * s))), Image.BILINEAR)
    boxes = [tuple(v * s for v in b) for b in boxes]
    for _ in range(pastes):
        p, _, two = render.plate(rng)
        width = math.exp(rng.uniform(math.log(14), math.log(200))) * (0.6 if two else 1.0)
        b = _perspective_paste(rng, scene, p.im, width)
        if b is not None and all(_iou(b, o) < 0.05 for o in boxes):
            boxes.append(b)
    signs = []
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        sign = _distractor(rng, scene, boxes)
        if sign is not None:
            signs.append(sign)
    # Random crop to CROP x CROP (black beyond the scene, as the node pads its input).
    W, H = scene.size
    cx = rng.uniform(0, max(0, W - CROP))
    cy = rng.uniform(0, max(0, H - CROP))
    if boxes and rng.random() < 0.7:  # mostly keep a plate in view
        b = boxes[rng.randrange(len(boxes))]
        cx = min(max(0, W - CROP), max(0, rng.uniform(b[2] - CROP, b[0])))
        cy = min(max(0, H - CROP), max(0, rng.uniform(b[3] - CROP, b[1])))
    canvas = scene.crop((int(cx), int(cy), int(cx) + CROP, int(cy) + CROP))
    boxes = [(b[0] - int(cx), b[1] - int(cy), b[2] - int(cx), b[3] - int(cy)) for b in boxes]
    signs = [(b[0] - int(cx), b[1] - int(cy), b[2] - int(cx), b[3] - int(cy)) for b in signs]
    a = np.asarray(canvas, dtype=np.float32)
    inside = np.zeros(a.shape[:2], dtype=bool)
    inside[: max(0, H - int(cy)), : max(0, W - int(cx))] = True
    # Photometric: brightness, contrast, colour, noise, night, JPEG-like blur.
    a = a * rng.uniform(0.6, 1.3) + rng.uniform(-30, 30)
    if rng.random() < 0.3:
        a = a * np.array([rng.uniform(0.85, 1.15) for _ in range(3)], dtype=np.float32)
    if rng.random() < 0.1:  # night / IR
        a = np.clip((a.mean(axis=2, keepdims=True) - 50) * rng.uniform(1.2, 2.2), 0, 255).repeat(3, axis=2)
    if rng.random() < 0.4:
        a = a + np.random.default_rng(seed).normal(0, rng.uniform(2, 12), a.shape)
    a = np.where(inside[..., None], np.clip(a, 0, 255), 0).astype(np.uint8)
    m = mask(boxes, CROP // STRIDE, CROP // STRIDE)
    return (a, m, boxes, signs) if with_boxes else (a, m)


def mask(boxes, mw, mh):
    """Cells (of STRIDE pixels) whose centre lies inside a box."""
    m = np.zeros((mh, mw), dtype=np.float32)
    for x0, y0, x1, y1 in boxes:
        gx0 = max(0, int(math.ceil(x0 / STRIDE - 0.5)))
        gy0 = max(0, int(math.ceil(y0 / STRIDE - 0.5)))
        gx1 = min(mw, int(math.floor(x1 / STRIDE - 0.5)) + 1)
        gy1 = min(mh, int(math.floor(y1 / STRIDE - 0.5)) + 1)
        if gx1 <= gx0 and 0 <= (x0 + x1) / 2 / STRIDE < mw:  # a tiny plate: at least its centre cell
            gx0, gx1 = int((x0 + x1) / 2 / STRIDE), int((x0 + x1) / 2 / STRIDE) + 1
        if gy1 <= gy0 and 0 <= (y0 + y1) / 2 / STRIDE < mh:
            gy0, gy1 = int((y0 + y1) / 2 / STRIDE), int((y0 + y1) / 2 / STRIDE) + 1
        m[gy0:gy1, gx0:gx1] = 1.0
    return m


def _iou(a, b):
    iw = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / u if u > 0 else 0.0


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--frames")
    ap.add_argument("--preview", default="/tmp/det_preview.png")
    a = ap.parse_args()
    reals, frames = real_scenes(a.data), sample_frames(a.frames)
    print(len(reals), "real training scenes,", len(frames), "sample frames")
    tiles = []
    for i in range(8):
        x, m = make(1000 + i, reals, frames)
        ov = x.copy()
        up = np.kron(m, np.ones((STRIDE, STRIDE)))[..., None] > 0
        ov = np.where(up, (ov * 0.5 + np.array([255, 0, 0]) * 0.5).astype(np.uint8), ov)
        tiles.append(ov)
    Image.fromarray(np.concatenate([np.concatenate(tiles[:4], 1), np.concatenate(tiles[4:], 1)], 0)).save(a.preview)
