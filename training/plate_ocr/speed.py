"""Recogniser speed next to another recogniser, same run: Python onnxruntime, 2 threads, batch 16.

    python speed.py init/plate-ocr-v12.onnx .cache/plate_ocr13.onnx

Prints each model's best of three median times per crop (50 runs each after 10 warm-up runs).
"""
import sys, time
import numpy as np
import onnxruntime as ort
x = np.random.default_rng(0).standard_normal((16, 1, 48, 240)).astype(np.float32)
res = {}
for rnd in range(3):
    for p in sys.argv[1:]:
        o = ort.SessionOptions(); o.intra_op_num_threads = 2
        s = ort.InferenceSession(p, o, providers=["CPUExecutionProvider"])
        for _ in range(10): s.run(None, {"image": x})
        ts = []
        for _ in range(50):
            t = time.perf_counter(); s.run(None, {"image": x}); ts.append(time.perf_counter() - t)
        res.setdefault(p, []).append(np.median(ts) / 16 * 1000)
for p, v in res.items():
    print(f"{p}: {min(v):.3f} ms per crop at batch 16 (best of 3 medians: {', '.join(f'{a:.3f}' for a in v)})")
