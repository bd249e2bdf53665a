"""Builds a fine-tuning set: the synthetic views of one set plus the real views of another.

    python mix.py --synthetic-from .cache/ds2 --real-from .cache/ds --synthetic-count 30000 --out .cache/ds2

gen.py writes the synthetic views first and the real ones after them, so the first
`--synthetic-count` rows of a set are synthetic. Validation files are taken from the real set.
"""
import argparse
import os
import shutil

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--synthetic-from", required=True)
    ap.add_argument("--real-from", required=True)
    ap.add_argument("--synthetic-count", type=int, required=True, help="synthetic rows in --synthetic-from")
    ap.add_argument("--real-synthetic-count", type=int, default=60000, help="synthetic rows to skip in --real-from")
    ap.add_argument("--val-from", help="take val.npz and val_synth.npz from here (default: --real-from)")
    ap.add_argument("--extra-from", action="append", default=[], help="add every row of this set (repeatable)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    s = np.load(os.path.join(a.synthetic_from, "train.npz"))
    r = np.load(os.path.join(a.real_from, "train.npz"))
    k, j = a.synthetic_count, a.real_synthetic_count
    extra = [np.load(os.path.join(e, "train.npz")) for e in a.extra_from]
    x = np.concatenate([s["x"][:k], r["x"][j:]] + [e["x"] for e in extra])
    y = np.concatenate([s["y"][:k], r["y"][j:]] + [e["y"] for e in extra])
    n = np.concatenate([s["n"][:k], r["n"][j:]] + [e["n"] for e in extra])
    os.makedirs(a.out, exist_ok=True)
    np.savez(os.path.join(a.out, "train.npz"), x=x, y=y, n=n)
    val_from = a.val_from or a.real_from
    for f in ("val.npz", "val_synth.npz"):
        if os.path.abspath(val_from) != os.path.abspath(a.out):
            shutil.copy(os.path.join(val_from, f), os.path.join(a.out, f))
    print(f"{len(x)} rows: {k} synthetic from {a.synthetic_from}, {len(r['x']) - j} real from {a.real_from}"
          + "".join(f", {len(e['x'])} from {p}" for e, p in zip(extra, a.extra_from)))


if __name__ == "__main__":
    main()
