"""Chooses the two stages' settings on the *training* scenes only (never the held-back ones): the
mask's decoding thresholds when the checker follows it, and the checker's plate probability.
Prints recall and precision at IoU 0.5 per set for each setting, the arithmetic of the Rust
detector (`models/src/plate/detector.rs`, `check.rs`); with `--split val`, the held-back figures
of one setting (to compare with `raqib eval plates`, never to choose).

    python check_tune.py --data ../../../shared/data --checker .cache/plate_check.onnx
"""
import argparse
import itertools

import numpy as np
import onnxruntime as ort
from PIL import Image

import data
import evaluate
import window


def tally(per, kind, truth, found):
    st = per.setdefault(kind, np.zeros(4))
    st += (len(truth), sum(any(data._iou(t, f[:4]) >= 0.5 for f in found) for t in truth), len(found),
           sum(any(data._iou(t, f[:4]) >= 0.5 for t in truth) for f in found))


def row(per):
    return "  ".join(f"{k} R {v[1] / v[0]:.3f} ({int(v[1])}/{int(v[0])}) P {v[3] / max(1, v[2]):.3f}"
                     for k, v in sorted(per.items()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--detector", default="../../models/weights/plate-detect.onnx")
    ap.add_argument("--checker", required=True)
    ap.add_argument("--split", default="train")
    ap.add_argument("--setting", help="threshold,min_cells,min_score,p (one setting only)")
    a = ap.parse_args()
    det = ort.InferenceSession(a.detector, providers=["CPUExecutionProvider"])
    chk = ort.InferenceSession(a.checker, providers=["CPUExecutionProvider"])
    check = lambda x: chk.run(None, {"window": x})[0]  # noqa: E731
    scenes = []
    for path, truth, kind in data.real_scenes(a.data, a.split):
        with Image.open(path) as im:
            img = im.convert("RGB")
        x, sc = evaluate.prepare(img)
        scenes.append((img, det.run(None, {"image": x})[0][0, 0], sc, truth, kind))
    if a.setting:
        grid = [tuple(float(v) for v in a.setting.split(","))]
    else:
        grid = list(itertools.product([0.2, 0.3, 0.4], [3, 6], [0.4, 0.6, 0.8], [0.3, 0.5, 0.7, 0.9]))
    cache = {}
    for th, cells, score, p in grid:
        key = (th, int(cells), score)
        if key not in cache:
            cache[key] = []
            for img, prob, sc, truth, kind in scenes:
                cands = [b[:4] for b in evaluate.boxes_of(prob, sc, th, int(cells), score, evaluate.CORE)]
                x = np.stack([window.view(img, c) for c in cands]).astype(np.float32) if cands else None
                out = check(((x / 255.0 - 0.5) / 0.5).transpose(0, 3, 1, 2)) if cands else []
                cache[key].append((img, cands, out, truth, kind))
        per = {}
        for img, cands, out, truth, kind in cache[key]:
            # As the Rust checker: a plate keeps the mask's box (the checker's own box estimate
            # is not used; MODEL_CARD.md says why).
            found = [tuple(c) + (float(o[0]),) for c, o in zip(cands, out) if o[0] >= p]
            tally(per, kind, truth, found)
        print(f"threshold {th} min_cells {int(cells)} min_score {score} p {p}:  {row(per)}", flush=True)


if __name__ == "__main__":
    main()
