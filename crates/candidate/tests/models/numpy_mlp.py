"""A correct NumPy MLP for the candidate tests, written as a course student would (CS231n's
params/grads dictionaries, weights (out, in)), for the NumPy adapter. DTYPE is float32; the
float64 copy (numpy_mlp_f64.py) and the planted-bug copies (bug_*.py) change DTYPE or BUG,
adam_eps_1e7.py fixes EPS.

The maths is docs/candidate-protocol.md's: Z_l = A_{l-1} W_l^T + b_l, A_l = f(Z_l) on hidden
layers; loss = mean cross-entropy of softmax(Z_L) + l2/(2m) sum ||W||^2; backprop with
f'(Z); Adam as torch.optim.Adam.
"""

import numpy as np

DTYPE = np.float32
BUG = None  # one of the bug_*.py names, planted below where it belongs
EPS = None  # Adam's ε fixed by the model (adam_eps_1e7.py); None takes the harness's
CONFIG = {}


def configure(config):
    CONFIG.update(config)


def activate(z):
    kind = CONFIG["activation"]
    if kind == "relu":
        return np.maximum(z, 0)
    if kind == "sigmoid":
        return 1 / (1 + np.exp(-z))
    return np.tanh(z)


def derivative(z):
    kind = CONFIG["activation"]
    if kind == "relu":
        return (z > 0).astype(z.dtype)
    if kind == "sigmoid":
        s = 1 / (1 + np.exp(-z))
        return s * (1 - s)
    return 1 - np.tanh(z) ** 2


def loss_and_grads(params, x, y):
    layers = len(params) // 2
    p = {name: value.astype(DTYPE) for name, value in params.items()}
    x = x.astype(DTYPE)
    m = x.shape[0]
    m_l2 = 64 if BUG == "batch_64" else m
    l2 = CONFIG["l2"]
    inputs, pre = [x], []
    for l in range(1, layers + 1):
        z = inputs[-1] @ p[f"W{l}"].T + p[f"b{l}"]
        pre.append(z)
        if l < layers:
            inputs.append(activate(z))
    logits = pre[-1]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_softmax[np.arange(m), y].mean()
    if BUG == "summed_loss":
        loss *= m
    loss += l2 / (2 * m_l2) * sum((p[f"W{l}"] ** 2).sum() for l in range(1, layers + 1))
    if BUG == "l2_on_biases":
        loss += l2 / (2 * m) * sum((p[f"b{l}"] ** 2).sum() for l in range(1, layers + 1))
    delta = np.exp(log_softmax)
    delta[np.arange(m), y] -= 1
    delta /= m
    grads = {}
    for l in range(layers, 0, -1):
        grads[f"W{l}"] = delta.T @ inputs[l - 1] + (l2 / m_l2) * p[f"W{l}"]
        grads[f"b{l}"] = delta.sum(axis=1 if BUG == "bias_axis" and l == 3 else 0)
        if BUG == "l2_on_biases":
            grads[f"b{l}"] = grads[f"b{l}"] + (l2 / m) * p[f"b{l}"]
        if l > 1:
            at = inputs[l - 1] if BUG == "derivative_at_a" else pre[l - 2]
            delta = (delta @ p[f"W{l}"]) * derivative(at)
    cache = {f"Z{l}": pre[l - 1] for l in range(1, layers)}
    return loss, grads, cache


def update(params, grads, state, config):
    if config["kind"] == "sgd":
        return {name: params[name] - config["lr"] * grads[name] for name in params}
    t = state["t"]
    beta1, beta2, lr, eps = config["beta1"], config["beta2"], config["lr"], config["eps"]
    eps = eps if EPS is None else EPS
    correction1 = 1 - beta1 ** (t + 1 if BUG == "adam_correction" else t)
    correction2 = 1 - beta2**t
    new = {}
    for name in params:
        g = grads[name].astype(DTYPE)
        m = beta1 * state["m"][name] + (1 - beta1) * g
        v = beta2 * state["v"][name] + (1 - beta2) * g * g
        denom = np.sqrt(v) / np.sqrt(correction2) + eps
        new[name] = params[name].astype(DTYPE) - (lr / correction1) * m / denom
    return new
