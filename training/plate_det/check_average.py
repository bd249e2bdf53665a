"""Exports the mean of several trained checkers (`check_model.Average`) as one ONNX model.

An experiment (`make train-plate-check-mined`, not shipped): round 1 is the shipped checker
(`check_data.py`'s windows), round 2 adds the hard negatives round 1 gets wrong
(`check_mine.py`). On the synthetic validation shard the mean of the two kept more plates and
dropped more non-plates (97.7 / 99.0 %) than round 1 (97.6 / 98.2 %) or round 2 (96.6 / 98.3 %),
but on the held-back photos it found two fewer Moroccan plates than round 1 (MODEL_CARD.md,
"Hard negatives").

    python check_average.py .cache/plate_check.onnx.ckpt .cache/plate_check_r2.onnx.ckpt \
        --out .cache/plate_check_avg.onnx
"""
import argparse

import torch

from check_model import Average, PlateCheck
from check_train import export


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoints", nargs="+", help="`<out>.ckpt` files of check_train.py runs")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    members = []
    for path in a.checkpoints:
        m = PlateCheck()
        m.load_state_dict(torch.load(path, weights_only=False)["model"])
        members.append(m)
    export(Average(members), a.out)
    print(f"{a.out}: the mean of {len(members)} checkers", flush=True)


if __name__ == "__main__":
    main()
