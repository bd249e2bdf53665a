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
    """Rows of (image path, char box, tokens, two_rows, split, usable) from moroccan-um6p-dev."""
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
        xs0, ys0, xs1, ys1 = [], [], [], []
        with open(label) as lf:
            for line in lf:
                p = line.split()
                if len(p) != 5:
                    continue
                cx, cy, w, h = (float(v) for v in p[1:])
                xs0.append((cx - w / 2) * W)
                ys0.append((cy - h / 2) * H)
                xs1.append((cx + w / 2) * W)
                ys1.append((cy + h / 2) * H)
        if not xs0:
            continue
        box = (min(xs0), min(ys0), max(xs1), max(ys1))
        tokens = alphabet.tokens_of(text.replace("/", "").replace("|", ""))
        usable = "no_arabic_letter_labeled" not in flags
        out.append(dict(path=path, box=box, tokens=tokens, text=text, two_rows="two_row" in flags,
                        split=split_of(alphabet_key(text)), usable=usable, standard=flags == "" and _standard(text)))
    return out


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
