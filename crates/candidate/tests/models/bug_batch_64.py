"""numpy_mlp.py with one mistake planted: the batch size hard-coded to 64 in the L2 term (right on every full batch)."""
import numpy_mlp as model

model.BUG = "batch_64"
from numpy_mlp import configure, loss_and_grads, update  # noqa: E402,F401
