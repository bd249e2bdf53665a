"""Trains the plate recogniser on the arrays made by gen.py and exports ONNX.

    python train.py --ds .cache/ds --epochs 5 --out .cache/plate_ocr.onnx
    python train.py --ds .cache/ds2 --epochs 2 --lr 1e-3 --init .cache/plate_ocr.onnx.pt --out .cache/plate_ocr2.onnx
    python train.py --ds .cache/ft10 --epochs 2 --lr 1e-3 --init-onnx init/plate-ocr-v6.onnx --out .cache/plate_ocr10.onnx

Deterministic for a given seed on CPU (torch.use_deterministic_algorithms), and resumable: every
`--checkpoint-every` steps the model, optimiser, schedule, random states and position are saved to
`<out>.ckpt`; run the same command again after an interruption and it continues from there (a
checkpoint made with other arguments is refused, not mixed in).
"""
import os
import argparse
import json

import numpy as np
import torch
import torch.nn.functional as F

import alphabet
from checkpoint import Checkpoint
from model import PlateOcr


def evaluate(model, x, y, n, kinds=None):
    model.eval()
    hits = {}
    with torch.no_grad():
        logp = model(to_tensor(x))
    for i in range(len(x)):
        k = kinds[i] if kinds is not None else "synthetic"
        ok = alphabet.greedy(logp[i]) == y[i, : n[i]].tolist()
        a, b = hits.get(k, (0, 0))
        hits[k] = (a + ok, b + 1)
    model.train()
    return {k: round(a / b, 4) for k, (a, b) in hits.items()}


def to_tensor(x8):
    return ((torch.from_numpy(x8).float() / 255.0 - 0.5) / 0.5).unsqueeze(1)


def shift(x8, rng):
    """Cheap online augmentation: random horizontal/vertical shift by up to 3/2 pixels and
    random contrast inversion of 2 % (white-on-dark plates)."""
    out = np.empty_like(x8)
    for i in range(len(x8)):
        dx, dy = rng.integers(-3, 4), rng.integers(-2, 3)
        out[i] = np.roll(np.roll(x8[i], dx, axis=1), dy, axis=0)
        if rng.random() < 0.02:
            out[i] = 255 - out[i]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ds", default=".cache/ds")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=".cache/plate_ocr.onnx")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--init", help="start from these weights (.pt) to fine-tune")
    ap.add_argument("--init-onnx", help="start from this exported recogniser (onnx_init.py) to fine-tune")
    ap.add_argument("--context", type=int, default=0,
                    help="units per direction of the bidirectional GRU over the feature row (0: none, v12 and before)")
    ap.add_argument("--warmup", type=float, default=0.15, help="share of steps spent warming up")
    ap.add_argument("--checkpoint-every", type=int, default=100, help="steps between resumable checkpoints")
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(a.seed)
    tr = np.load(f"{a.ds}/train.npz")
    va = np.load(f"{a.ds}/val.npz")
    vs = np.load(f"{a.ds}/val_synth.npz")
    x, y, n = tr["x"], tr["y"], tr["n"]
    model = PlateOcr(context=a.context)
    if a.init:
        model.load_state_dict(torch.load(a.init))
    if a.init_onnx:
        import onnx_init
        onnx_init.load(model, a.init_onnx, to_tensor(x[np.random.default_rng(a.seed).choice(len(x), 512, replace=False)]))
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    per_epoch = len(x) // a.batch
    steps = a.epochs * per_epoch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=steps, pct_start=a.warmup)
    history = []
    signature = dict(ds=os.path.abspath(a.ds), rows=len(x), epochs=a.epochs, batch=a.batch, lr=a.lr, seed=a.seed,
                     init=a.init, init_onnx=a.init_onnx, warmup=a.warmup)
    if a.context:
        signature["context"] = a.context
    ck = Checkpoint(a.out + ".ckpt", signature, model, opt, sched)
    start_epoch, start_step, order, total = 0, 0, None, 0.0
    c = ck.resume()
    if c is not None:
        rng.bit_generator.state = c["rng"]
        start_epoch, start_step, order, total, history = c["epoch"], c["step"], c["order"], c["total"], c["history"]
        print(f"resuming from {ck.path}: epoch {start_epoch + 1} step {start_step}", flush=True)

    def save(epoch, step, order, total):
        ck.save(rng=rng.bit_generator.state, epoch=epoch, step=step, order=order, total=total, history=history)

    for epoch in range(start_epoch, a.epochs):
        if order is None:
            order = rng.permutation(len(x))
            total = 0.0
        for s in range(start_step, per_epoch):
            idx = order[s * a.batch: (s + 1) * a.batch]
            xb = to_tensor(shift(x[idx], rng))
            logp = model(xb).permute(1, 0, 2)  # T, N, C
            target = torch.from_numpy(y[idx])
            lens = torch.from_numpy(n[idx])
            loss = F.ctc_loss(logp, target, torch.full((len(idx),), logp.shape[0], dtype=torch.long), lens,
                              blank=0, zero_infinity=True)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            total += loss.item()
            if s % 100 == 0:
                print(f"epoch {epoch + 1} step {s} loss {loss.item():.3f} {ck.seconds() / 60:.1f} min", flush=True)
            if (s + 1) % a.checkpoint_every == 0 and s + 1 < per_epoch:
                save(epoch, s + 1, order, total)
        start_step = 0
        real = evaluate(model, va["x"], va["y"], va["n"], va["kind"])
        synth = evaluate(model, vs["x"], vs["y"], vs["n"])
        row = dict(epoch=epoch + 1, loss=round(total / (len(x) // a.batch), 4), val_real=real, val_synthetic=synth,
                   minutes=round(ck.seconds() / 60, 1))
        history.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
        torch.save(model.state_dict(), a.out + ".pt")
        order = None
        save(epoch + 1, 0, None, 0.0)
    export(model, a.out)
    with open(a.out + ".history.json", "w") as f:
        json.dump(history, f, ensure_ascii=False, indent=1)


def export(model, path):
    import onnx
    model.eval()
    dummy = torch.zeros(1, 1, alphabet.HEIGHT, alphabet.WIDTH)
    torch.onnx.export(model, dummy, path, input_names=["image"], output_names=["log_probs"],
                      dynamic_axes={"image": {0: "batch"}, "log_probs": {0: "batch"}}, opset_version=17, dynamo=False)
    m = onnx.load(path)
    meta = {"raqib.task": "plate-ocr-ctc", "raqib.alphabet": json.dumps(alphabet.CLASSES, ensure_ascii=False),
            "raqib.input": json.dumps({"height": alphabet.HEIGHT, "width": alphabet.WIDTH, "channels": "grey",
                                       "grey": [0.299, 0.587, 0.114], "scale": "(x/255-0.5)/0.5",
                                       "two_rows": [0.6, 0.4]})}
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.save(m, path)


if __name__ == "__main__":
    main()
