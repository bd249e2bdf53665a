"""Resumable training state, shared by every trainer (`plate_ocr/train.py`, `plate_det/train.py`,
`plate_det/check_train.py`).

A run saves its model, optimiser, schedule, torch random state and whatever position it needs
(step, epoch, history, ...) to `<out>.ckpt` every so many steps, atomically (a temporary file,
then a rename: an interrupted save leaves the previous checkpoint). Run the same command again and
it continues from there; a checkpoint made with other arguments (another `signature`) is refused,
never mixed in. Time already spent is carried over, so logged minutes are the run's total.
"""
import os
import time

import torch


class Checkpoint:
    """`<out>.ckpt` of one run: `signature` names the arguments the run was made with."""

    def __init__(self, path, signature, model, opt, sched):
        self.path, self.signature = path, signature
        self.model, self.opt, self.sched = model, opt, sched
        self.t0 = time.time()

    def resume(self):
        """Restores the saved state into the model, optimiser and schedule (and the torch random
        state when saved) and returns the saved position (the keys given to `save`), or None when
        there is no checkpoint yet. Exits when the checkpoint was made with other arguments."""
        if not os.path.exists(self.path):
            return None
        c = torch.load(self.path, weights_only=False)
        if c["signature"] != self.signature:
            raise SystemExit(f"{self.path} was made with other arguments ({c['signature']}); remove it to start over")
        self.model.load_state_dict(c["model"])
        self.opt.load_state_dict(c["opt"])
        self.sched.load_state_dict(c["sched"])
        if "torch_rng" in c:
            torch.set_rng_state(c["torch_rng"])
        self.t0 -= c["seconds"]
        return c

    def seconds(self):
        """Training time so far, this process and the ones before it."""
        return time.time() - self.t0

    def save(self, **position):
        """Writes the state and `position` (step, history, ...) atomically."""
        tmp = self.path + ".tmp"
        torch.save(dict(signature=self.signature, model=self.model.state_dict(), opt=self.opt.state_dict(),
                        sched=self.sched.state_dict(), torch_rng=torch.get_rng_state(), seconds=self.seconds(),
                        **position), tmp)
        os.replace(tmp, self.path)
