"""tests/models/numpy_mlp.py, timing its own arithmetic: the seconds each loss_and_grads call
takes inside the candidate's process are appended to $CANDIDATE_TIMINGS, one a line."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "models"))
import numpy_mlp as model  # noqa: E402
from numpy_mlp import configure  # noqa: E402,F401

timings = open(os.environ["CANDIDATE_TIMINGS"], "a")


def loss_and_grads(params, x, y):
    start = time.perf_counter()
    result = model.loss_and_grads(params, x, y)
    timings.write(f"{time.perf_counter() - start}\n")
    timings.flush()
    return result
