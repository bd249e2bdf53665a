"""Writes the small plate photos committed under samples/plates/ (made by the project, so they
can ship): clean renders of each plate family on a plain background, with their true text.

    python samples.py ../../samples/plates
"""
import os
import random
import sys

from PIL import Image

import render

# (family function, seed): one of each layout the recogniser must read.
CASES = [("ma-standard", render.morocco, 3), ("ma-two-row", render.morocco, 0), ("ma-ww", render.morocco, 16),
         ("fr", render.europe, 1), ("br-mercosul", render.brazil, 2), ("us", render.usa, 5)]
WANT = {"ma-standard": (False, lambda t: len(t) >= 5 and any(c in render.ARABIC_LETTERS for c in t)),
        "ma-two-row": (True, lambda t: True), "ma-ww": (False, lambda t: "W" in t),
        "fr": (False, lambda t: len(t) == 7 and "".join(t[2:5]).isdigit() and "".join(t[:2] + t[5:]).isalpha()), "br-mercosul": (False, lambda t: len(t) == 7), "us": (False, lambda t: True)}


def find(name, family):
    """First seed whose plate has the wanted layout and content."""
    two, ok = WANT[name]
    for seed in range(1000):
        rng = random.Random(seed)
        p, tokens, two_rows = family(rng)
        if two_rows == two and ok(tokens):
            return p, tokens
    raise SystemExit(f"no seed for {name}")


def main(out):
    os.makedirs(out, exist_ok=True)
    rows = []
    for name, family, _ in CASES:
        p, tokens = find(name, family)
        img = p.im.convert("RGB")
        canvas = Image.new("RGB", (img.width + 160, img.height + 120), (90, 96, 104))
        canvas.paste(img, (80, 60))
        canvas.save(os.path.join(out, f"{name}.png"), optimize=True)
        rows.append(f"{name}.png\t{''.join(tokens)}")
    with open(os.path.join(out, "truth.tsv"), "w", encoding="utf-8") as f:
        f.write("file\ttext\n" + "\n".join(rows) + "\n")
    print("\n".join(rows))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../../samples/plates")
