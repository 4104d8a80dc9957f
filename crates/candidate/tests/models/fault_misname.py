"""Answers the first weight gradient as w1 instead of W1."""
import numpy_mlp as model
from numpy_mlp import configure  # noqa: F401


def loss_and_grads(params, x, y):
    loss, grads, cache = model.loss_and_grads(params, x, y)
    grads["w1"] = grads.pop("W1")
    return loss, grads, cache
