"""Right answers, but writes text to stdout (file descriptor 1) before the first: print()
itself would be harmless, the adapter sends it to stderr."""
import os

import numpy_mlp as model
from numpy_mlp import configure  # noqa: F401


def loss_and_grads(params, x, y):
    print("print() goes to stderr")
    os.write(1, b"loss 2.302\n")
    return model.loss_and_grads(params, x, y)
