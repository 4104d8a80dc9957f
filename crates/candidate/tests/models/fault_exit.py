"""Exits with status 0 at its first loss_and_grads, answering nothing."""
import sys


def loss_and_grads(params, x, y):
    sys.exit(0)
