"""numpy_mlp.py with one mistake planted: the loss it reports is the batch's sum, not its mean,
while its gradients are those of the mean (right), so only the loss departs."""
import numpy_mlp as model

model.BUG = "summed_loss"
from numpy_mlp import configure, loss_and_grads, update  # noqa: E402,F401
