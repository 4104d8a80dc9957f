"""Never answers its first loss_and_grads."""
import time


def loss_and_grads(params, x, y):
    time.sleep(3600)
