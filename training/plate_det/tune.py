"""Chooses the detector's decoding thresholds on the *training* scenes only (never the held-back
ones): recall and precision at IoU 0.5 for each setting, on the training split of
moroccan-scenes and OpenALPR br/eu (and, with `--closeups`, of the UM6P close-ups).

    python tune.py --data ../../../shared/data --model .cache/plate_det.onnx
"""
import argparse
import itertools

import numpy as np
import onnxruntime as ort
from PIL import Image

import data
import evaluate


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--split", default="train")
    ap.add_argument("--closeups", action="store_true", help="score the UM6P close-ups too (training split)")
    a = ap.parse_args()
    s = ort.InferenceSession(a.model, providers=["CPUExecutionProvider"])
    maps = []
    for path, truth, kind in data.real_scenes(a.data, a.split, closeups=a.closeups):
        with Image.open(path) as im:
            x, sc = evaluate.prepare(im)
        maps.append((s.run(None, {"image": x})[0][0, 0], sc, truth, kind))
    for th, cells, score, core in itertools.product([0.4, 0.5, 0.6], [3, 6, 10], [0.6, 0.7, 0.8], [0.0, 0.6, 0.7, 0.8]):
        per = {}
        for prob, sc, truth, kind in maps:
            found = evaluate.boxes_of(prob, sc, th, cells, score, core)
            st = per.setdefault(kind, np.zeros(4))
            st += (len(truth), sum(any(data._iou(t, f[:4]) >= 0.5 for f in found) for t in truth), len(found),
                   sum(any(data._iou(t, f[:4]) >= 0.5 for t in truth) for f in found))
        row = "  ".join(f"{k} R {v[1] / v[0]:.3f} P {v[3] / max(1, v[2]):.3f}" for k, v in sorted(per.items()))
        print(f"threshold {th} min_cells {cells:2} min_score {score} core {core}:  {row}", flush=True)


if __name__ == "__main__":
    main()
