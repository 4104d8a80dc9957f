"""numpy_mlp.py in float64."""
import numpy as np

import numpy_mlp as model

model.DTYPE = np.float64
from numpy_mlp import configure, loss_and_grads, update  # noqa: E402,F401
