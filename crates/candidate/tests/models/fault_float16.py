"""Answers the second weight gradient in float16."""
import numpy as np

import numpy_mlp as model
from numpy_mlp import configure  # noqa: F401


def loss_and_grads(params, x, y):
    loss, grads, cache = model.loss_and_grads(params, x, y)
    grads["W2"] = grads["W2"].astype(np.float16)
    return loss, grads, cache
