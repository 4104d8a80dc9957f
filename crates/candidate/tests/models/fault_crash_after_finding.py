"""bug_l2_on_biases.py (with --l2, named at step 2, once the biases are no longer 0) that
crashes with exit status 3 in its Adam update of step 3, after a word on stderr."""
import os
import sys

import numpy_mlp as model

model.BUG = "l2_on_biases"
from numpy_mlp import configure, loss_and_grads  # noqa: E402,F401


def update(params, grads, state, config):
    if state.get("t") == 3:
        print("about to crash in step 3's update", file=sys.stderr, flush=True)
        os._exit(3)
    return model.update(params, grads, state, config)
