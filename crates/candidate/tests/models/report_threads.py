"""Reports, as the error of its first step, the thread counts its numerical libraries were given."""
import os


def loss_and_grads(params, x, y):
    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    raise ValueError(" ".join(f"{name}={os.environ.get(name)}" for name in names))
