"""A second client, written from docs/candidate-protocol.md alone (no adapter): an MLP in
NumPy speaking the frames itself, with SGD as its update rule."""
import json, struct, sys
import numpy as np

inp, out = sys.stdin.buffer, sys.stdout.buffer
f = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z))}
df = {"relu": lambda z: (z > 0) * 1.0, "tanh": lambda z: 1 - np.tanh(z) ** 2,
      "sigmoid": lambda z: f["sigmoid"](z) * (1 - f["sigmoid"](z))}

def receive():
    assert inp.read(4) == b"MLPP"
    header = json.loads(inp.read(struct.unpack("<I", inp.read(4))[0]))
    inp.read(8)  # payload length, 0
    arrays = {e["name"]: np.fromfile(files["requests"], e["dtype"], int(np.prod(e["shape"])), offset=e["offset"])
              .reshape(e["shape"]) for e in header.get("arrays", [])}
    return header, arrays

def send(header, arrays={}):
    entries, at = [], 0
    with open(files["answers"], "r+b") as answers:
        for name, array in arrays.items():
            data = np.ascontiguousarray(array, "<f8").tobytes()
            answers.seek(at)
            answers.write(data)
            entries.append({"name": name, "dtype": "<f8", "shape": list(np.shape(array)), "offset": at})
            at += len(data)
    h = json.dumps({**header, "arrays": entries} if arrays else header).encode()
    out.write(b"MLPP" + struct.pack("<I", len(h)) + h + struct.pack("<Q", 0))
    out.flush()

files = {}
hello, _ = receive()
files, act, l2, L = hello["files"], hello["activation"], hello["l2"], len(hello["hidden"]) + 1
send({"kind": "hello", "protocol": 2, "update": hello["optimizer"]["kind"] == "sgd"})
while True:
    header, a = receive()
    if header["kind"] == "bye":
        break
    if header["kind"] == "update":
        lr = header["optimizer"]["lr"]
        names = [f"{t}{l}" for l in range(1, L + 1) for t in "Wb"]
        send({"kind": "updated"}, {k: a[k] - lr * a["grad." + k] for k in names})
        continue
    x, y, m = a["x"].astype(np.float64), a["y"], len(a["y"])
    A, Z = [x], []
    for l in range(1, L + 1):
        Z.append(A[-1] @ a[f"W{l}"].T + a[f"b{l}"])
        A.append(f[act](Z[-1]))
    z = Z[-1] - Z[-1].max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = -logp[np.arange(m), y].mean() + l2 / (2 * m) * sum((a[f"W{l}"] ** 2).sum() for l in range(1, L + 1))
    d = np.exp(logp)
    d[np.arange(m), y] -= 1
    d /= m
    g = {}
    for l in range(L, 0, -1):
        g[f"W{l}"], g[f"b{l}"] = d.T @ A[l - 1] + l2 / m * a[f"W{l}"], d.sum(axis=0)
        if l > 1:
            d = (d @ a[f"W{l}"]) * df[act](Z[l - 2])
    send({"kind": "gradients"}, {"loss": np.array(loss), **g, **{f"Z{l}": Z[l - 1] for l in range(1, L)}})
