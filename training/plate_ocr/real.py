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
# Labels corrected by eye, shared with `raqib eval plates` (eval/src/plates/fixes.rs).
FIXES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "eval", "plate-label-fixes.tsv")


def _bucket(key):
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 100


def split_of(key):
    return "val" if _bucket(key) < VAL_PERCENT else "train"


def label_fixes(path=FIXES):
    """{(folder, file, given label): (sha256 prefix, corrected text or None)} from the corrections
    file (`#` comments, a header, then folder, file, sha256, given, corrected or `-`, why)."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if line.startswith("#") or len(p) != 6 or p[0] == "folder":
                continue
            out[(p[0], p[1], p[3])] = (p[2], None if p[4] == "-" else p[4])
    return out


def fixed(fixes, folder, name, given, path):
    """(text, split key, corrected?) of one labelled photo: the corrected text when a fix names
    this photo (same SHA-256 prefix) and its label is still `given`. A corrected photo's split is
    its side when the given and the corrected text fall on the same side, else `none` (used on
    neither side: a model may have been trained under either label)."""
    fix = fixes.get((folder, name, given))
    if fix is not None:
        with open(path, "rb") as f:
            if not hashlib.sha256(f.read()).hexdigest().startswith(fix[0]):
                fix = None
    if fix is None:
        return given, split_of(alphabet_key(given)), False
    text = fix[1]
    sides = {split_of(alphabet_key(given))} | ({split_of(alphabet_key(text))} if text else set())
    return text, sides.pop() if len(sides) == 1 else "none", True


def moroccan(data, folder="moroccan-um6p-dev", fixes=None):
    """Rows of (image path, char box, boxed characters, tokens, two_rows, split, usable) from a
    UM6P close-up folder (`moroccan-um6p-dev` or `moroccan-um6p-train`: same format), with the
    labels corrected by eye (`fixes`, default: `eval/plate-label-fixes.tsv`)."""
    root = os.path.join(data, "plates", folder)
    if not os.path.isdir(root):
        return []
    fixes = label_fixes() if fixes is None else fixes
    out = []
    with open(os.path.join(root, "plates.tsv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for r in rows:
        name, given, flags = r["file"], r["plate_text_derived"], r["flags"] or ""
        path = os.path.join(root, "images", name)
        text, split, corrected = fixed(fixes, folder, name, given, path)
        if corrected:
            flags = ("two_row" if text and "/" in text else "") + ("" if text else "unreadable")
            text = text or given
        label = os.path.join(root, "labels_yolo_chars", os.path.splitext(name)[0] + ".txt")
        with Image.open(path) as im:
            W, H = im.size
        chars = char_boxes(label, W, H)
        if not chars:
            continue
        box = (min(c[1] for c in chars), min(c[2] for c in chars), max(c[3] for c in chars), max(c[4] for c in chars))
        tokens = alphabet.tokens_of(text.replace("/", "").replace("|", ""))
        usable = "no_arabic_letter_labeled" not in flags and "unreadable" not in flags
        out.append(dict(path=path, box=box, chars=chars, tokens=tokens, text=text, two_rows="two_row" in flags,
                        split=split, usable=usable, standard=flags == "" and _standard(text),
                        set="ma" if folder.endswith("dev") else "ma-train", letter=_letter(text)))
    return out


def moroccan_all(data):
    """Every real Moroccan plate: both UM6P halves and the whole-car scenes, with one split rule
    (the plate text's hash), so a plate string is never on both sides, whatever folder it is in."""
    return moroccan(data) + moroccan(data, "moroccan-um6p-train") + scenes(data)


def scenes(data):
    """Rows from moroccan-scenes: whole 640x640 car photos, one YOLO plate box each, text in
    plates.tsv. The `unreadable` rows are skipped (their label is not trustworthy)."""
    root = os.path.join(data, "plates", "moroccan-scenes")
    if not os.path.isdir(root):
        return []
    with open(os.path.join(root, "plates.tsv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    out = []
    for r in rows:
        if r["check"] == "unreadable":
            continue
        name, text = r["file"], r["plate_text"]
        box = plate_box(os.path.join(root, "labels_yolo", os.path.splitext(name)[0] + ".txt"), 640, 640)
        if box is None:
            continue
        out.append(dict(path=os.path.join(root, "images", name), box=box, tokens=alphabet.tokens_of(text.replace("|", "")),
                        text=text, two_rows=False, split=split_of(alphabet_key(text)), usable=True,
                        standard=_standard(text), set="ma-scenes", letter=_letter(text)))
    return out


def plate_box(label, W, H):
    """The first YOLO box of a label file, in pixels (x0, y0, x1, y1)."""
    with open(label) as f:
        for line in f:
            p = line.split()
            if len(p) == 5:
                cx, cy, w, h = (float(v) for v in p[1:])
                return ((cx - w / 2) * W, (cy - h / 2) * H, (cx + w / 2) * W, (cy + h / 2) * H)
    return None


def us(data):
    """Rows from openalpr-us-crops-train: rectified US plate crops (the whole image is the plate,
    state names and slogans included; only the number is the label). Split by plate text, the
    same rule as the Moroccan plates."""
    root = os.path.join(data, "plates", "openalpr-us-crops-train")
    if not os.path.isdir(root):
        return []
    out = []
    with open(os.path.join(root, "groundtruth.csv")) as f:
        for line in f:
            p = line.strip().split(",")
            if len(p) < 3:
                continue
            path = os.path.join(root, "images", p[0])
            with Image.open(path) as im:
                W, H = im.size
            out.append(dict(path=path, box=(0, 0, W, H), tokens=alphabet.tokens_of(p[2]), text=p[2], two_rows=False,
                            split=split_of(alphabet_key(p[2])), usable=True, set="us", state=p[1]))
    return out


def _letter(text):
    parts = text.replace("/", "|").split("|")
    return next((p for p in parts if p and not p.isdigit()), "")


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


def all_sets(data):
    """Every real set the recogniser trains on or is scored on, each row marked `set` and `split`."""
    return moroccan_all(data) + openalpr(data) + us(data)


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
                            two_rows=False, split=split_of(region + "/" + parts[0]), usable=True, region=region,
                            set=region))
    return out
