"""tests/models/numpy_mlp.py, timing its own arithmetic: the seconds each loss_and_grads and
update call takes inside the candidate's process are appended to $CANDIDATE_TIMINGS, one a
line ("loss_and_grads 0.0042", "update 0.0031")."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "models"))
import numpy_mlp as model  # noqa: E402
from numpy_mlp import configure  # noqa: E402,F401

timings = open(os.environ["CANDIDATE_TIMINGS"], "a")


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    timings.write(f"{function.__name__} {time.perf_counter() - start}\n")
    timings.flush()
    return result


def loss_and_grads(params, x, y):
    return timed(model.loss_and_grads, params, x, y)


def update(params, grads, state, config):
    return timed(model.update, params, grads, state, config)
