"""Trains the plate checker (`check_model.py`) on the windows of `check_data.py` and exports ONNX.

    python check_train.py --ds .cache/check --epochs 12 --out .cache/plate_check.onnx

The hard-negative experiment (`make train-plate-check-mined`) trains a second round on both
folders: `--ds .cache/check --ds .cache/check-mined --mined-weight W`.

Deterministic for a given `--seed` and thread count (the order of every epoch is drawn from its
own seed); resumable: every `--checkpoint-every` steps the model, optimiser, schedule and step are
saved to `<out>.ckpt`, and the same command continues from there (a checkpoint made with other
arguments is refused). Loss: binary cross-entropy on "a plate at the centre" plus L1 on the
plate's box (plates only). The last synthetic shard is kept for validation (logged, never used to
choose anything).
"""
import argparse
import glob
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

from check_model import PlateCheck

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "plate_ocr"))
from checkpoint import Checkpoint  # noqa: E402


def load(dirs):
    files = sorted((f for ds in dirs for f in glob.glob(os.path.join(ds, "*.npz"))), key=os.path.basename)
    synthetic = [f for f in files if os.path.basename(f).startswith("synthetic_")]
    val = synthetic[-1:]
    parts = {"train": [f for f in files if f not in val], "val": val}
    out = {}
    for k, fs in parts.items():
        zs = [np.load(f) for f in fs]
        out[k] = tuple(np.concatenate([z[n] for z in zs]) for n in ("x", "y", "t", "src"))
    return out, [os.path.basename(f) for f in files]


def to_tensor(x):
    return (torch.from_numpy(x).permute(0, 3, 1, 2).float() / 255.0 - 0.5) / 0.5


def augment(g, x):
    """Brightness, contrast and grey, per window, on the normalised tensor."""
    n = x.shape[0]
    gain = torch.empty(n, 1, 1, 1).uniform_(0.7, 1.3, generator=g)
    shift = torch.empty(n, 1, 1, 1).uniform_(-0.2, 0.2, generator=g)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * gain + mean + shift
    grey = (torch.rand(n, 1, 1, 1, generator=g) < 0.15).float()
    return (x * (1 - grey) + x.mean(dim=1, keepdim=True) * grey).clamp(-1, 1)


def loss_of(raw, y, t, weight=None, gamma=0.0):
    """Classification (focal with `gamma` > 0: the examples already right count less, so the rare
    hard ones, a badge or a lamp the detector marked, are not drowned by easy ones) plus L1 on
    the plates' boxes."""
    bce = F.binary_cross_entropy_with_logits(raw[:, 0], y, reduction="none")
    if gamma > 0:
        p = torch.sigmoid(raw[:, 0])
        bce = bce * (y * (1 - p) + (1 - y) * p).pow(gamma)
    if weight is not None:
        bce = bce * weight
    cls = bce.mean()
    pos = y > 0.5
    box = F.l1_loss(raw[pos, 1:], t[pos]) if pos.any() else raw.sum() * 0
    return cls + 2.0 * box, cls.item(), box.item()


def evaluate(model, x, y, t, batch=512):
    model.eval()
    with torch.no_grad():
        out = torch.cat([model(to_tensor(x[i:i + batch])) for i in range(0, len(y), batch)])
    model.train()
    p = out[:, 0].numpy()
    yy = y.astype(bool)
    err = np.abs(out[yy, 1:].numpy() - t[yy]).mean() if yy.any() else float("nan")
    return dict(plates=int(yy.sum()), others=int((~yy).sum()), plate_recall_05=round(float((p[yy] >= 0.5).mean()), 4),
                other_rejected_05=round(float((p[~yy] < 0.5).mean()), 4), box_l1=round(float(err), 4))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ds", action="append", help="a folder of shards (repeatable; default .cache/check)")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--checkpoint-every", type=int, default=100)
    ap.add_argument("--out", default=".cache/plate_check.onnx")
    ap.add_argument("--init", help="start from the weights of this checkpoint (`<out>.ckpt` of an earlier run)")
    ap.add_argument("--focal", type=float, default=0.0, help="focal loss gamma (0: plain cross-entropy)")
    ap.add_argument("--real-negative-weight", type=float, default=1.0,
                    help="weight of the windows on real photos that hold no plate")
    ap.add_argument("--mined-weight", type=float, default=1.0,
                    help="weight of the hard negatives of `check_mine.py` (src 2)")
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    torch.use_deterministic_algorithms(True)
    sets, files = load(a.ds or [".cache/check"])
    x, y, t, src = sets["train"]
    vx, vy, vt, _ = sets["val"]
    print(f"{len(y)} training windows ({int(y.sum())} plates), {len(vy)} validation windows", flush=True)
    per_epoch = len(y) // a.batch
    total = per_epoch * a.epochs
    model = PlateCheck()
    if a.init:
        model.load_state_dict(torch.load(a.init, weights_only=False)["model"])
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=total, pct_start=0.1)
    signature = dict(files=files, windows=int(len(y)), epochs=a.epochs, batch=a.batch, lr=a.lr, seed=a.seed,
                     **({"init": os.path.abspath(a.init) if a.init else None, "focal": a.focal,
                         "real_negative_weight": a.real_negative_weight}
                        if a.init or a.focal or a.real_negative_weight != 1.0 else {}),
                     **({"mined_weight": a.mined_weight} if (src == 2).any() else {}))
    ck = Checkpoint(a.out + ".ckpt", signature, model, opt, sched)
    start, history = 0, []
    c = ck.resume()
    if c is not None:
        start, history = c["step"], c["history"]
        print(f"resuming from {ck.path} at step {start}", flush=True)

    def save(step):
        ck.save(step=step, history=history)

    model.train()
    yf, tf = torch.from_numpy(y.astype(np.float32)), torch.from_numpy(t)
    weight = np.where((y == 0) & (src == 0), a.real_negative_weight, 1.0)
    wf = torch.from_numpy(np.where(src == 2, a.mined_weight, weight).astype(np.float32))
    running = np.zeros(2)
    for step in range(start, total):
        epoch, k = divmod(step, per_epoch)
        order = np.random.default_rng(a.seed * 1000 + epoch).permutation(len(y))
        idx = np.sort(order[k * a.batch:(k + 1) * a.batch])
        g = torch.Generator().manual_seed(a.seed * 1_000_003 + step)
        xb = augment(g, to_tensor(x[idx]))
        loss, cls, box = loss_of(model.raw(xb), yf[idx], tf[idx], wf[idx], a.focal)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        running += (cls, box)
        if (step + 1) % 50 == 0:
            print(f"step {step + 1}/{total} cls {running[0] / 50:.4f} box {running[1] / 50:.4f} "
                  f"{ck.seconds() / 60:.1f} min", flush=True)
            running[:] = 0
        if (step + 1) % per_epoch == 0:
            row = dict(epoch=epoch + 1, minutes=round(ck.seconds() / 60, 1), val=evaluate(model, vx, vy, vt))
            history.append(row)
            print(json.dumps(row), flush=True)
        if (step + 1) % a.checkpoint_every == 0 or step + 1 == total:
            save(step + 1)
    export(model, a.out)
    with open(a.out + ".history.json", "w") as f:
        json.dump(history, f, indent=1)


def export(model, path):
    import onnx
    import window
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 3, window.WIN_H, window.WIN_W), path, input_names=["window"],
                      output_names=["check"], dynamic_axes={"window": {0: "batch"}, "check": {0: "batch"}},
                      opset_version=17, dynamo=False)
    m = onnx.load(path)
    meta = {"raqib.task": "plate-check",
            "raqib.input": json.dumps({"width": window.WIN_W, "height": window.WIN_H, "grow": window.GROW,
                                       "channels": "rgb", "scale": "(x/255-0.5)/0.5", "pad": 0}),
            "raqib.output": "[p, x1, y1, x2, y2] (box as fractions of the window)"}
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.save(m, path)


if __name__ == "__main__":
    main()
