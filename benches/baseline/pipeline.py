"""A straightforward Python plate pipeline: the baseline `raqib bench video` compares against.

    python benches/baseline/pipeline.py VIDEO --models MODELS_DIR [--reads]

What a competent engineer writes first with opencv-python and onnxruntime, frame by frame with
the same two models raqib uses: OpenCV decodes each frame; the PP-OCRv4 text detector runs on
it (longest side 960, multiples of 32, as raqib); the probability map is thresholded (0.3),
dilated, and each contour's box (DB unclip 1.6) is cropped, turned grey, resized to the
recogniser's input and read in one batch per frame; greedy CTC; reads of 3-10 characters with
mean confidence >= 0.6 are kept. No tracking or voting (raqib's extra work is not charged to
the baseline). One ONNX Runtime session per model with default threads.

Prints JSON: frames, seconds, fps, and with --reads the texts read per frame.
"""
import argparse
import json
import time

import cv2
import numpy as np
import onnxruntime as ort


def session(path):
    return ort.InferenceSession(path, providers=["CPUExecutionProvider"])


def detect(det, frame, max_side=960):
    h, w = frame.shape[:2]
    scale = min(max_side / max(h, w), 1.0)
    th = max(32, int(round(h * scale / 32)) * 32)
    tw = max(32, int(round(w * scale / 32)) * 32)
    x = cv2.resize(frame, (tw, th)).astype(np.float32)
    x = ((x / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None]
    prob = det.run(None, {det.get_inputs()[0].name: x})[0][0, 0]
    mask = (prob > 0.3).astype(np.uint8)
    mask = cv2.dilate(mask, np.ones((1, 5), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    boxes = []
    sx, sy = w / tw, h / th
    for c in contours:
        x0, y0, bw, bh = cv2.boundingRect(c)
        if bw * bh < 12:
            continue
        if float(prob[y0:y0 + bh, x0:x0 + bw].mean()) < 0.5:
            continue
        d = bw * bh * 1.6 / (2 * (bw + bh))
        boxes.append(((x0 - d) * sx, (y0 - d) * sy, (x0 + bw + d) * sx, (y0 + bh + d) * sy))
    return boxes


def read(ocr, classes, frame, boxes, height, width):
    if not boxes:
        return []
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape
    batch = []
    for x0, y0, x1, y1 in boxes:
        c = grey[max(0, int(y0)):min(h, int(y1) + 1), max(0, int(x0)):min(w, int(x1) + 1)]
        if c.size == 0:
            c = np.zeros((height, width), np.uint8)
        batch.append(cv2.resize(c, (width, height)).astype(np.float32))
    x = ((np.stack(batch) / 255.0 - 0.5) / 0.5)[:, None]
    logp = ocr.run(None, {ocr.get_inputs()[0].name: x})[0]
    out = []
    for row in logp:
        best = row.argmax(-1)
        probs = np.exp(row.max(-1))
        text, confs, prev = [], [], 0
        for t, k in enumerate(best):
            if k != prev and k != 0:
                text.append(classes[k])
                confs.append(probs[t])
            prev = k
        if 3 <= len(text) <= 10 and np.mean(confs) >= 0.6:
            out.append("".join(text))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("video")
    ap.add_argument("--models", required=True)
    ap.add_argument("--reads", action="store_true")
    a = ap.parse_args()
    det = session(f"{a.models}/ch_PP-OCRv4_det_infer.onnx")
    ocr = session(f"{a.models}/plate-ocr.onnx")
    meta = ocr.get_modelmeta().custom_metadata_map
    classes = json.loads(meta["raqib.alphabet"])
    spec = json.loads(meta["raqib.input"])
    cap = cv2.VideoCapture(a.video)
    if not cap.isOpened():
        raise SystemExit(f"cannot open {a.video}")
    frames, reads = 0, []
    t0 = time.perf_counter()
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        texts = read(ocr, classes, frame, detect(det, frame), spec["height"], spec["width"])
        if a.reads:
            reads.append(texts)
        frames += 1
    seconds = time.perf_counter() - t0
    doc = {"frames": frames, "seconds": round(seconds, 3), "fps": frames / max(seconds, 1e-9),
           "onnxruntime": ort.__version__, "opencv": cv2.__version__}
    if a.reads:
        doc["reads"] = reads
    print(json.dumps(doc))


if __name__ == "__main__":
    main()
