"""numpy_mlp.py with one mistake planted: the activation's derivative taken at A instead of Z (the assignment's mistake)."""
import numpy_mlp as model

model.BUG = "derivative_at_a"
from numpy_mlp import configure, loss_and_grads, update  # noqa: E402,F401
