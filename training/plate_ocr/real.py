"""Real plate crops from ../shared/data (never copied into the repository).

Deterministic split by a hash of the plate text (Moroccan set: so no plate string is in both
halves) or of the file name (OpenALPR): `val` items are never trained on.
"""
import csv
import hashlib
import os

from PIL import Image

import alphabet

VAL_PERCENT = 40


def _bucket(key):
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 100


def split_of(key):
    return "val" if _bucket(key) < VAL_PERCENT else "train"


def moroccan(data):
    """Rows of (image path, char box, boxed characters, tokens, two_rows, split, usable) from
    moroccan-um6p-dev."""
    root = os.path.join(data, "plates", "moroccan-um6p-dev")
    out = []
    with open(os.path.join(root, "plates.tsv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for r in rows:
        name, text, flags = r["file"], r["plate_text_derived"], r["flags"] or ""
        path = os.path.join(root, "images", name)
        label = os.path.join(root, "labels_yolo_chars", os.path.splitext(name)[0] + ".txt")
        with Image.open(path) as im:
            W, H = im.size
        chars = char_boxes(label, W, H)
        if not chars:
            continue
        box = (min(c[1] for c in chars), min(c[2] for c in chars), max(c[3] for c in chars), max(c[4] for c in chars))
        tokens = alphabet.tokens_of(text.replace("/", "").replace("|", ""))
        usable = "no_arabic_letter_labeled" not in flags
        out.append(dict(path=path, box=box, chars=chars, tokens=tokens, text=text, two_rows="two_row" in flags,
                        split=split_of(alphabet_key(text)), usable=usable, standard=flags == "" and _standard(text)))
    return out


def char_boxes(label, W, H):
    """(YOLO class, x0, y0, x1, y1) in pixels of each boxed character of a `labels_yolo_chars`
    file, left to right."""
    out = []
    with open(label) as f:
        for line in f:
            p = line.split()
            if len(p) != 5:
                continue
            cx, cy, w, h = (float(v) for v in p[1:])
            out.append((int(p[0]), (cx - w / 2) * W, (cy - h / 2) * H, (cx + w / 2) * W, (cy + h / 2) * H))
    return sorted(out, key=lambda b: b[1])


def alphabet_key(text):
    return "".join(alphabet.tokens_of(text))


def _standard(text):
    parts = text.split("|")
    return len(parts) == 3 and parts[0].isdigit() and parts[2].isdigit() and len(parts[1]) == 1


def openalpr(data):
    """Rows from openalpr-endtoend/{br,eu}: GT box `x y w h TEXT`."""
    out = []
    for region in ("br", "eu"):
        root = os.path.join(data, "plates", "openalpr-endtoend", region)
        for name in sorted(os.listdir(root)):
            if not name.endswith(".txt"):
                continue
            with open(os.path.join(root, name)) as f:
                parts = f.read().split()
            if len(parts) < 6:
                continue
            img = os.path.join(root, parts[0])
            if not os.path.exists(img):
                continue
            x, y, w, h = (float(v) for v in parts[1:5])
            text = parts[5]
            out.append(dict(path=img, box=(x, y, x + w, y + h), tokens=alphabet.tokens_of(text), text=text,
                            two_rows=False, split=split_of(region + "/" + parts[0]), usable=True, region=region))
    return out
