"""numpy_mlp.py answering without its pre-activations (Z), which the protocol allows: the
check then cannot tell which ReLU units the candidate had on."""
import numpy_mlp as model
from numpy_mlp import configure, update  # noqa: F401


def loss_and_grads(params, x, y):
    loss, grads, _ = model.loss_and_grads(params, x, y)
    return loss, grads
