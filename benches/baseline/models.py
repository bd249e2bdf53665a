"""Plain-Python ONNX Runtime reference for raqib's models.

    python benches/baseline/models.py golden  MODELS_DIR > models/tests/fixtures/golden.json
    python benches/baseline/models.py latency MODELS_DIR [ITERATIONS]

`golden` runs every model once on a deterministic input and prints reference outputs that
models/tests/golden.rs compares raqib's outputs with. `latency` times each model (batch 1, and
batch 16 for the plate recogniser and 4 for the plate checker: ids ending in `@bN`, times per call) the
way a straightforward Python program would (one session per model, default threads), for the
ratio in BENCHMARKS.md; `raqib bench models` measures the same on raqib's side.
"""
import json
import sys
import time

import numpy as np
import onnxruntime as ort

# id, file, input shape (dynamic models get a fixed small size)
MODELS = [
    ("face-detect-rfb320", "fr_detect.onnx", (1, 3, 240, 320)),
    ("face-landmark-68", "fr_landmark.onnx", (1, 1, 64, 64)),
    ("face-embed-512", "fr_feature.onnx", (1, 3, 112, 112)),
    ("text-detect-ppocrv4", "ch_PP-OCRv4_det_infer.onnx", (1, 3, 64, 128)),
    ("plate-ocr", "plate-ocr.onnx", (1, 1, 48, 240)),
    ("plate-detect", "plate-detect.onnx", (1, 3, 288, 512)),
    ("plate-check", "plate-check.onnx", (1, 3, 64, 128)),
    # Batched runs (latency only): id@bN.
    ("plate-ocr@b16", "plate-ocr.onnx", (16, 1, 48, 240)),
    ("plate-check@b4", "plate-check.onnx", (4, 3, 64, 128)),
]


def pattern(shape):
    """((7x + 13y + 29c + 31n) mod 256 - 127) / 128: exact in f32, same formula as golden.rs."""
    n, c, h, w = np.indices(shape, dtype=np.int64)
    return (((w * 7 + h * 13 + c * 29 + n * 31) % 256 - 127) / 128.0).astype(np.float32)


def session(models_dir, file):
    return ort.InferenceSession(f"{models_dir}/{file}", providers=["CPUExecutionProvider"])


def golden(models_dir):
    out = {}
    for model_id, file, shape in MODELS:
        if "@" in model_id:
            continue
        s = session(models_dir, file)
        y = s.run(None, {s.get_inputs()[0].name: pattern(shape)})[0].astype(np.float64).ravel()
        out[model_id] = {
            "input_shape": list(shape),
            "output_len": int(y.size),
            "head": [float(v) for v in y[:16]],
            "sum": float(y.sum()),
            "abs_sum": float(np.abs(y).sum()),
        }
    print(json.dumps({"onnxruntime": ort.__version__, "models": out}, indent=1))


def latency(models_dir, iterations):
    for model_id, file, shape in MODELS:
        s = session(models_dir, file)
        feed = {s.get_inputs()[0].name: pattern(shape)}
        for _ in range(3):
            s.run(None, feed)
        times = []
        for _ in range(iterations):
            t = time.perf_counter()
            s.run(None, feed)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        print(f"{model_id:22} {list(shape)}  mean {sum(times) / len(times):7.3f} ms  p50 {times[len(times) // 2]:7.3f} ms")


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("golden", "latency"):
        sys.exit(__doc__)
    if sys.argv[1] == "golden":
        golden(sys.argv[2])
    else:
        latency(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 100)
