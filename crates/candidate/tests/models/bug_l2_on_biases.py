"""numpy_mlp.py with one mistake planted: the L2 term applied to the biases too."""
import numpy_mlp as model

model.BUG = "l2_on_biases"
from numpy_mlp import configure, loss_and_grads, update  # noqa: E402,F401
