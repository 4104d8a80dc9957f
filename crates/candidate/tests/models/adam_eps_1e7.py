"""numpy_mlp.py with Adam's ε fixed at 1e-7 (Keras's, and some books'), whatever the harness
sends: correct, and checked as such with `--adam-eps 1e-7`."""
import numpy_mlp as model

model.EPS = 1e-7
from numpy_mlp import configure, loss_and_grads, update  # noqa: E402,F401
