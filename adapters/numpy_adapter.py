"""The NumPy side of compare's candidate protocol (docs/candidate-protocol.md).

Run as `python numpy_adapter.py my_mlp.py` (compare runs it for `--candidate-python`). It
loads my_mlp.py, which defines

    def loss_and_grads(params, x, y):
        # params: {"W1": (500, 784), "b1": (500,), ...}; x: (m, 784) float32; y: (m,) int64
        return loss, {"W1": dW1, "b1": db1, ...}     # or loss, grads, {"Z1": Z1, ...}

and optionally `update(params, grads, state, config)` (returns the new params; state is
{"m": {...}, "v": {...}, "t": t} for Adam, {} for SGD; config the optimiser with the values
libtorch computes with, float32 hyperparameters widened to float64, e.g. {"kind": "adam",
"lr": 0.0010000000474974513, "beta1": 0.8999999761581421, "beta2": 0.9990000128746033,
"eps": 9.99999993922529e-09}) and
`configure(config)` (called once with the network: {"hidden": [500, 250, 100],
"activation": "relu", "l2": 0.0, "optimizer": {...}}). It answers every request of the
protocol by calling them. Anything the model prints goes to stderr: stdout carries only the
protocol's frames.
"""

import ctypes
import importlib.util
import json
import mmap
import os
import struct
import sys
import traceback

import numpy as np

PROTOCOL = 2
MAGIC = b"MLPP"
ALIGN = 64  # where each answer array starts, as the harness does for its requests


def read_exact(stream, n):
    data = stream.read(n)
    if len(data) != n:
        sys.exit(0)  # the harness has gone
    return data


def read_frame(stream):
    if read_exact(stream, 4) != MAGIC:
        raise ValueError("the harness sent something that is not a frame")
    (header_len,) = struct.unpack("<I", read_exact(stream, 4))
    header = json.loads(read_exact(stream, header_len))
    (payload_len,) = struct.unpack("<Q", read_exact(stream, 8))
    read_exact(stream, payload_len)  # none in protocol 2
    return header


class Files:
    """The two files the arrays go through, named in the hello. A request's arrays are viewed
    in the requests file where they lie (a shared memory map, so they are writable and nothing
    is copied); an answer's arrays are written to the answers file one after another."""

    def __init__(self, names):
        self.requests = open(names["requests"], "r+b")
        self.answers = open(names["answers"], "r+b", buffering=0)
        self.mapped, self.size = None, 0

    def arrays(self, entries):
        """The arrays a request's header lists, as {name: array}. They stay valid until the
        next request: copy what you keep."""
        size = os.fstat(self.requests.fileno()).st_size
        if size != self.size:  # the file grew (the first update request is the largest)
            self.mapped, self.size = mmap.mmap(self.requests.fileno(), size), size
        return {
            entry["name"]: np.frombuffer(self.mapped, np.dtype(entry["dtype"]), count=int(np.prod(entry["shape"])),
                                         offset=entry["offset"]).reshape(entry["shape"])
            for entry in entries
        }

    def write(self, arrays):
        """Writes `arrays` to the answers file; returns their entries for the answer's header."""
        entries, at = [], 0
        for name, array in arrays.items():
            array = np.asanyarray(array)
            if not array.flags.c_contiguous:
                array = array.copy(order="C")
            at = -(-at // ALIGN) * ALIGN
            entries.append({"name": name, "dtype": array.dtype.str, "shape": list(array.shape), "offset": at})
            self.answers.seek(at)
            self.answers.write(array.reshape(-1).view(np.uint8))
            at += array.nbytes
        return entries


def write_frame(stream, header):
    header = json.dumps(header).encode()
    stream.write(MAGIC + struct.pack("<I", len(header)) + header + struct.pack("<Q", 0))
    stream.flush()


def parameters(arrays, prefix=""):
    """{"W1": ..., "b1": ...} from the arrays named prefix + W1, prefix + b1, ..."""
    return {
        name[len(prefix):]: array
        for name, array in arrays.items()
        if name.startswith(prefix) and name[len(prefix):][:1] in ("W", "b")
        and name[len(prefix) + 1:].isdigit()
    }


def load(path):
    spec = importlib.util.spec_from_file_location("candidate_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def answer(model, header, arrays):
    kind = header["kind"]
    if kind == "loss_and_grads":
        result = model.loss_and_grads(parameters(arrays), arrays["x"], arrays["y"])
        loss, grads = result[0], result[1]
        out = {"loss": np.asarray(loss)}
        out.update(grads)
        if len(result) > 2:
            out.update(result[2])
        return "gradients", out
    if kind == "update":
        state = {}
        if header["optimizer"]["kind"] == "adam":
            state = {"m": parameters(arrays, "m."), "v": parameters(arrays, "v."), "t": header["t"]}
        grads = parameters(arrays, "grad.")
        new = model.update(parameters(arrays), grads, state, header["optimizer"])
        return "updated", dict(new)
    raise ValueError(f"unknown request {kind!r}")


def keep_freed_memory():
    """glibc hands blocks of megabytes back to the kernel as soon as they are freed, so NumPy's
    temporaries got fresh, zeroed pages at every step: the default network's Adam update took
    2.6 times as long (3.5 s against 1.3 s over 200 steps). Keep such blocks for reuse instead
    (mallopt's largest thresholds). Without glibc there is nothing to do."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 32 << 20)
    mallopt(m_trim_threshold, 64 << 20)


def main():
    keep_freed_memory()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # the model's prints must not enter the protocol stream
    sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[1])))  # as `python my_mlp.py`
    model = load(sys.argv[1])
    files = None
    while True:
        header = read_frame(stdin)
        kind = header["kind"]
        if kind == "bye":
            return
        if kind == "hello":
            if header["protocol"] != PROTOCOL:
                write_frame(stdout, {"kind": "error", "message": f"this adapter speaks protocol {PROTOCOL}, not {header['protocol']}"})
                return
            files = Files(header["files"])
            if hasattr(model, "configure"):
                model.configure({k: v for k, v in header.items() if k not in ("kind", "protocol", "files")})
            write_frame(stdout, {"kind": "hello", "protocol": PROTOCOL, "update": hasattr(model, "update")})
            continue
        try:
            reply, out = answer(model, header, files.arrays(header["arrays"]))
            entries = files.write(out)
        except Exception as error:  # the model's own mistake: say which, then go on
            traceback.print_exc()
            write_frame(stdout, {"kind": "error", "message": f"{type(error).__name__}: {error}"})
            continue
        write_frame(stdout, {"kind": reply, "arrays": entries})


if __name__ == "__main__":
    main()
