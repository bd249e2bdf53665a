"""Scores an exported recogniser with Python onnxruntime on the held-out real crops and lists
its mistakes; also times it at batch 16 (the reference for `raqib bench models`).

    python evaluate.py .cache/plate_ocr.onnx --ds .cache/ds
"""
import argparse
import json
import time

import numpy as np
import onnxruntime as ort

import alphabet


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--ds", default=".cache/ds")
    a = ap.parse_args()
    o = ort.SessionOptions()
    o.intra_op_num_threads = 2
    s = ort.InferenceSession(a.model, o, providers=["CPUExecutionProvider"])
    va = np.load(f"{a.ds}/val.npz")
    x = ((va["x"].astype(np.float32) / 255.0 - 0.5) / 0.5)[:, None]
    lp = np.concatenate([s.run(None, {"image": x[i:i + 16]})[0] for i in range(0, len(x), 16)])
    stats = {}
    for i in range(len(x)):
        truth = "".join(alphabet.CLASSES[c] for c in va["y"][i, : va["n"][i]])
        pred = alphabet.greedy_text(lp[i])
        k = str(va["kind"][i])
        ok, n = stats.get(k, (0, 0))
        stats[k] = (ok + (pred == truth), n + 1)
        if pred != truth:
            print(f"  {k:3} truth {truth:12} read {pred}")
    print(json.dumps({k: f"{ok}/{n} = {ok / n:.1%}" for k, (ok, n) in stats.items()}))
    batch = x[:16] if len(x) >= 16 else np.repeat(x[:1], 16, axis=0)
    for _ in range(5):
        s.run(None, {"image": batch})
    t = time.perf_counter()
    for _ in range(50):
        s.run(None, {"image": batch})
    print(f"python onnxruntime: {(time.perf_counter() - t) / 50 / 16 * 1000:.3f} ms per crop at batch 16")


if __name__ == "__main__":
    main()
