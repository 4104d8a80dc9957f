"""numpy_mlp.py with one mistake planted: Adam's first bias correction one step ahead, 1 - beta1^(t+1)."""
import numpy_mlp as model

model.BUG = "adam_correction"
from numpy_mlp import configure, loss_and_grads, update  # noqa: E402,F401
