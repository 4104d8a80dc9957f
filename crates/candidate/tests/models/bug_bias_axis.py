"""numpy_mlp.py with one mistake planted: the bias gradient of layer 3 summed over the units instead of the images."""
import numpy_mlp as model

model.BUG = "bias_axis"
from numpy_mlp import configure, loss_and_grads, update  # noqa: E402,F401
