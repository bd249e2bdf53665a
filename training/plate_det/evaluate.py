"""Scores the plate detector on whole held-back scenes: recall and precision at IoU 0.5.

The decoder is the Rust one's arithmetic (`models/src/plate/detector.rs`): the image scaled so its
longest side is 512 and padded to multiples of 32, the probability map thresholded, 4-connected
components, each component's cell box scaled back to image pixels. Used while training (logged,
never used to pick a model) and, with `--model`, on an exported ONNX file with Python onnxruntime
(the speed reference for `raqib bench models`).

    python evaluate.py --data ../../../shared/data --model .cache/plate_det.onnx
"""
import argparse
import math
import time

import numpy as np
from PIL import Image

import data

THRESHOLD = 0.4
MIN_CELLS = 6
MIN_SCORE = 0.8
CORE = 0.8


def prepare(img):
    """RGB image -> ([1, 3, H, W] float input, scale)."""
    s = data.SIDE / max(img.size)
    w, h = max(1, round(img.width * s)), max(1, round(img.height * s))
    W, H = math.ceil(w / 32) * 32, math.ceil(h / 32) * 32
    a = np.zeros((H, W, 3), dtype=np.float32)
    a[:h, :w] = np.asarray(img.convert("RGB").resize((w, h), Image.BILINEAR), dtype=np.float32)
    return ((a / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None], s


def boxes_of(prob, scale, threshold=None, min_cells=None, min_score=None, core=None):
    """Boxes (image pixels) and scores of the components of a [h, w] probability map, overlapping
    ones merged (`merge_overlapping` in the Rust decoder)."""
    threshold = THRESHOLD if threshold is None else threshold
    min_cells = MIN_CELLS if min_cells is None else min_cells
    min_score = MIN_SCORE if min_score is None else min_score
    core = CORE if core is None else core
    h, w = prob.shape
    on = prob > threshold
    seen = np.zeros_like(on)
    out = []
    for y0 in range(h):
        for x0 in range(w):
            if not on[y0, x0] or seen[y0, x0]:
                continue
            stack, cells = [(y0, x0)], []
            seen[y0, x0] = True
            while stack:
                y, x = stack.pop()
                cells.append((y, x))
                for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                    if 0 <= ny < h and 0 <= nx < w and on[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        stack.append((ny, nx))
            score = float(np.mean([prob[c] for c in cells]))
            inner = [c for c in cells if prob[c] >= core] or cells
            ys, xs = [c[0] for c in inner], [c[1] for c in inner]
            if len(cells) < min_cells or score < min_score:
                continue
            k = data.STRIDE / scale
            out.append(((min(xs)) * k, (min(ys)) * k, (max(xs) + 1) * k, (max(ys) + 1) * k, score))
    return merge(out)


def merge(boxes):
    """Boxes overlapping at IoU > 0.3 or mostly one inside the other become their union (higher
    score kept); best first."""
    kept = []
    for b in sorted(boxes, key=lambda b: -b[4]):
        for i, k in enumerate(kept):
            iw = max(0, min(k[2], b[2]) - max(k[0], b[0]))
            ih = max(0, min(k[3], b[3]) - max(k[1], b[1]))
            small = max(1.0, min((k[2] - k[0]) * (k[3] - k[1]), (b[2] - b[0]) * (b[3] - b[1])))
            if data._iou(k, b) > 0.3 or iw * ih / small > 0.6:
                kept[i] = (min(k[0], b[0]), min(k[1], b[1]), max(k[2], b[2]), max(k[3], b[3]), k[4])
                break
        else:
            kept.append(b)
    return kept


def score(model, items, run=None):
    """{'recall': .., 'precision': .., 'n': ..} at IoU 0.5 over `items` [(path, [boxes], set)]."""
    import torch
    per = {}
    for path, truth, kind in items:
        with Image.open(path) as im:
            x, s = prepare(im)
        if run is None:
            with torch.no_grad():
                prob = model(torch.from_numpy(x))[0, 0].numpy()
        else:
            prob = run(x)[0, 0]
        found = boxes_of(prob, s)
        st = per.setdefault(kind, [0, 0, 0, 0])  # truths, truths found, detections, detections right
        st[0] += len(truth)
        st[1] += sum(any(data._iou(t, f[:4]) >= 0.5 for f in found) for t in truth)
        st[2] += len(found)
        st[3] += sum(any(data._iou(t, f[:4]) >= 0.5 for t in truth) for f in found)
    return {k: dict(n=v[0], recall=round(v[1] / max(1, v[0]), 4), precision=round(v[3] / max(1, v[2]), 4))
            for k, v in per.items()}


def main():
    import onnxruntime as ort
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", required=True)
    a = ap.parse_args()
    o = ort.SessionOptions()
    o.intra_op_num_threads = 2
    s = ort.InferenceSession(a.model, o, providers=["CPUExecutionProvider"])
    run = lambda x: s.run(None, {"image": x})[0]  # noqa: E731
    print(score(None, data.real_scenes(a.data, "val", closeups=True), run))
    x = np.zeros((1, 3, 288, 512), dtype=np.float32)
    for _ in range(5):
        run(x)
    t = time.perf_counter()
    for _ in range(50):
        run(x)
    print(f"python onnxruntime: {(time.perf_counter() - t) / 50 * 1000:.2f} ms per 512x288 input (a 720p frame)")


if __name__ == "__main__":
    main()
