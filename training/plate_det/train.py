"""Trains the plate detector from scratch on CPU and exports ONNX.

    python train.py --data ../../../shared/data --frames .cache/frames --steps 6000 --out .cache/plate_det.onnx

Every example is drawn from its own seed (`data.make(seed, ...)`), so a run is deterministic for
a given `--seed`, and resumable: every `--checkpoint-every` steps the model, optimiser, schedule
and step are saved to `<out>.ckpt`; the same command continues from there after an interruption
(a checkpoint made with other arguments is refused). Loss: binary cross-entropy plus Dice on the
1/4-resolution plate mask.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

import data

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "plate_ocr"))
from checkpoint import Checkpoint  # noqa: E402
from model import PlateDet
import evaluate


def to_tensor(batch):
    return (torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2).float() / 255.0 - 0.5) / 0.5


def loss_of(logits, target):
    bce = F.binary_cross_entropy_with_logits(logits, target, pos_weight=torch.tensor(2.0))
    p = torch.sigmoid(logits)
    inter = (p * target).sum(dim=(1, 2, 3))
    dice = 1 - (2 * inter + 1) / (p.sum(dim=(1, 2, 3)) + target.sum(dim=(1, 2, 3)) + 1)
    return bce + dice.mean()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--frames", help="sample-scene frames (frames.sh)")
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=4e-3)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--checkpoint-every", type=int, default=50)
    ap.add_argument("--eval-every", type=int, default=1000)
    ap.add_argument("--out", default=".cache/plate_det.onnx")
    ap.add_argument("--init", help="start from the weights of this run's checkpoint (`<out>.ckpt` of an earlier run)")
    ap.add_argument("--closeup", type=float, default=0.0,
                    help="share of examples zoomed to a close-up; > 0 also trains on the UM6P close-ups")
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    torch.use_deterministic_algorithms(True)
    closeups = a.closeup > 0
    reals, frames = data.real_scenes(a.data, closeups=closeups), data.sample_frames(a.frames)
    held = data.real_scenes(a.data, "val", closeups=closeups)
    print(f"{len(reals)} real training scenes, {len(frames)} sample frames, {len(held)} held-back scenes", flush=True)
    model = PlateDet()
    if a.init:
        model.load_state_dict(torch.load(a.init, weights_only=False)["model"])
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=a.steps, pct_start=0.05)
    signature = dict(data=os.path.abspath(a.data), frames=len(frames), reals=len(reals), steps=a.steps, batch=a.batch,
                     lr=a.lr, seed=a.seed, **({"init": os.path.abspath(a.init), "closeup": a.closeup} if a.init or closeups else {}))
    ck = Checkpoint(a.out + ".ckpt", signature, model, opt, sched)
    start, history = 0, []
    c = ck.resume()
    if c is not None:
        start, history = c["step"], c["history"]
        print(f"resuming from {ck.path} at step {start}", flush=True)

    def save(step):
        ck.save(step=step, history=history)

    model.train()
    running = 0.0
    for step in range(start, a.steps):
        xs, ms = zip(*(data.make(a.seed * 1_000_003 + step * a.batch + i, reals, frames, a.closeup) for i in range(a.batch)))
        x = to_tensor(xs)
        target = torch.from_numpy(np.stack(ms))[:, None]
        loss = loss_of(model.logits(x), target)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        sched.step()
        running += loss.item()
        if (step + 1) % 25 == 0:
            print(f"step {step + 1} loss {running / 25:.4f} {ck.seconds() / 60:.1f} min", flush=True)
            running = 0.0
        if (step + 1) % a.eval_every == 0 or step + 1 == a.steps:
            model.eval()
            row = dict(step=step + 1, minutes=round(ck.seconds() / 60, 1), held_back=evaluate.score(model, held))
            model.train()
            history.append(row)
            print(json.dumps(row), flush=True)
        if (step + 1) % a.checkpoint_every == 0 or step + 1 == a.steps:
            save(step + 1)
    export(model, a.out)
    with open(a.out + ".history.json", "w") as f:
        json.dump(history, f, indent=1)


def export(model, path):
    import onnx
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 3, 288, 512), path, input_names=["image"], output_names=["prob"],
                      dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"},
                                    "prob": {0: "batch", 2: "map_height", 3: "map_width"}},
                      opset_version=17, dynamo=False)
    m = onnx.load(path)
    meta = {"raqib.task": "plate-detect-mask",
            "raqib.input": json.dumps({"max_side": data.SIDE, "multiple": 32, "stride": data.STRIDE, "channels": "rgb",
                                       "scale": "(x/255-0.5)/0.5", "pad": 0})}
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.save(m, path)


if __name__ == "__main__":
    main()
