"""Writes models/tests/fixtures/ocr_input.json: this package's preprocessing (preprocess.py) of
a committed sample plate, which models/tests/ocr_input.rs checks the Rust preprocessing against.

    python fixture.py > ../../models/tests/fixtures/ocr_input.json
"""
import json

from PIL import Image

import preprocess

SAMPLE = "../../samples/plates/ma-standard.png"
BOX = (60, 40, 620, 190)  # x0, y0, x1, y1: the plate with some margin


def main():
    img = Image.open(SAMPLE).convert("RGB").crop(BOX)
    g = preprocess.grey(img)
    out = {"image": "samples/plates/ma-standard.png", "box": BOX}
    for name, two in (("one_row", False), ("two_rows", True)):
        x = preprocess.to_input(preprocess.layout(g, two))
        out[name] = {"sum": float(x.sum()), "row_16": [float(v) for v in x[16, ::10]]}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
