"""The NumPy side of compare's candidate protocol (docs/candidate-protocol.md).

Run as `python numpy_adapter.py my_mlp.py` (compare runs it for `--candidate-python`). It
loads my_mlp.py, which defines

    def loss_and_grads(params, x, y):
        # params: {"W1": (500, 784), "b1": (500,), ...}; x: (m, 784) float32; y: (m,) int64
        return loss, {"W1": dW1, "b1": db1, ...}     # or loss, grads, {"Z1": Z1, ...}

and optionally `update(params, grads, state, config)` (returns the new params; state is
{"m": {...}, "v": {...}, "t": t} for Adam, {} for SGD; config the optimiser, e.g.
{"kind": "adam", "lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-08}) and
`configure(config)` (called once with the network: {"hidden": [500, 250, 100],
"activation": "relu", "l2": 0.0, "optimizer": {...}}). It answers every request of the
protocol by calling them. Anything the model prints goes to stderr: stdout carries only the
protocol's frames.
"""

import importlib.util
import io
import json
import os
import struct
import sys
import traceback
import zlib

import numpy as np

PROTOCOL = 1
MAGIC = b"MLPP"


def read_exact(stream, n):
    data = stream.read(n)
    if len(data) != n:
        sys.exit(0)  # the harness has gone
    return data


def read_payload(stream, n):
    """n bytes into a bytearray, so that the arrays sliced out of it are writable."""
    payload = bytearray(n)
    view, got = memoryview(payload), 0
    while got < n:
        chunk = stream.readinto(view[got:])
        if not chunk:
            sys.exit(0)  # the harness has gone
        got += chunk
    return payload


def read_frame(stream):
    if read_exact(stream, 4) != MAGIC:
        raise ValueError("the harness sent something that is not a frame")
    (header_len,) = struct.unpack("<I", read_exact(stream, 4))
    header = json.loads(read_exact(stream, header_len))
    (payload_len,) = struct.unpack("<Q", read_exact(stream, 8))
    payload = read_payload(stream, payload_len)
    return header, load_npz(payload) if payload_len else {}


# The zip records of an uncompressed archive (PKWARE's APPNOTE 4.3.7, 4.3.12, 4.3.16).
LOCAL = struct.Struct("<4s5H3L2H")
CENTRAL = struct.Struct("<4s6H3L5H2L")
END = struct.Struct("<4s4H2LH")
DOS_DATE = 0x21  # 1980-01-01, the earliest a zip can say


def npz_pieces(arrays):
    """An uncompressed .npz of `arrays`, as np.savez writes it, as a list of pieces and their
    total length. Each array's values are a piece as they lie in memory: np.savez copies them
    three times on their way into the archive (4 ms for a default-network answer)."""
    pieces, directory, at = [], [], 0
    for name, array in arrays.items():
        array = np.asanyarray(array)
        if not array.flags.c_contiguous:
            array = array.copy(order="C")
        header = npy_header_of(array)
        values = array.reshape(-1).view(np.uint8)
        size = len(header) + values.nbytes
        if size >= 1 << 32:
            raise ValueError(f"{name} is 4 GiB or more, which needs Zip64: this adapter does not write it")
        crc = zlib.crc32(values, zlib.crc32(header))
        filename = (name + ".npy").encode()
        local = LOCAL.pack(b"PK\x03\x04", 20, 0, 0, 0, DOS_DATE, crc, size, size, len(filename), 0)
        directory.append(CENTRAL.pack(b"PK\x01\x02", 20, 20, 0, 0, 0, DOS_DATE, crc, size, size,
                                      len(filename), 0, 0, 0, 0, 0, at) + filename)
        pieces += [local + filename, header, values]
        at += len(local) + len(filename) + size
    central = b"".join(directory)
    end = END.pack(b"PK\x05\x06", 0, 0, len(directory), len(directory), len(central), at, 0)
    return pieces + [central, end], at + len(central) + len(end)


NPY_HEADERS_OUT = {}


def npy_header_of(array):
    """The .npy header of the C-ordered `array`, made once per dtype and shape."""
    key = (array.dtype.str, array.shape)
    if key not in NPY_HEADERS_OUT:
        member = io.BytesIO()
        header = np.lib.format.header_data_from_array_1_0(array)
        try:
            np.lib.format.write_array_header_1_0(member, header)
        except ValueError:  # a header too long for version 1.0
            member = io.BytesIO()
            np.lib.format.write_array_header_2_0(member, header)
        NPY_HEADERS_OUT[key] = member.getvalue()
    return NPY_HEADERS_OUT[key]


def load_npz(payload):
    """The arrays of the harness's .npz (a bytearray), writable, as np.load gives them. Its
    members are stored (uncompressed), so each is viewed in the payload where it lies, copied
    only when not aligned for its dtype; the zip directory is read here, since zipfile would
    first copy the whole payload into a BytesIO (np.load then reads each member through
    zipfile in small checked chunks: 9 ms of a default-network step against 1.2 ms so)."""
    arrays = {}
    end = len(payload) - END.size
    if end < 0 or payload[end:end + 4] != b"PK\x05\x06":
        raise ValueError("the harness's payload does not end as a .npz without a comment does")
    _, _, _, _, count, _, at, _ = END.unpack_from(payload, end)
    for _ in range(count):
        fields = CENTRAL.unpack_from(payload, at)
        method, size, name_len, extra_len, comment_len, local = (
            fields[4], fields[9], fields[10], fields[11], fields[12], fields[16])
        name = bytes(payload[at + CENTRAL.size:at + CENTRAL.size + name_len]).decode()
        at += CENTRAL.size + name_len + extra_len + comment_len
        if method != 0:
            raise ValueError(f"{name} is compressed: the harness stores its arrays")
        local_name_len, local_extra_len = struct.unpack_from("<HH", payload, local + 26)
        start = local + LOCAL.size + local_name_len + local_extra_len
        data = memoryview(payload)[start:start + size]
        (shape, fortran, dtype), offset = npy_header(data)
        flat = np.frombuffer(data, dtype, count=int(np.prod(shape)), offset=offset)
        array = flat.reshape(shape[::-1]).T if fortran else flat.reshape(shape)
        arrays[name.removesuffix(".npy")] = array if array.flags.aligned else array.copy()
    return arrays


NPY_HEADERS = {}


def npy_header(data):
    """(shape, fortran order, dtype) of the .npy `data` and where its values begin. Every step
    sends the same headers, so each is parsed once: NumPy parses one with `ast.literal_eval`,
    0.05-0.2 ms, and a step holds some fifty."""
    major = data[6]
    length_at, length_format = (8, "<H") if major == 1 else (8, "<I")
    (header_len,) = struct.unpack_from(length_format, data, length_at)
    offset = length_at + struct.calcsize(length_format) + header_len
    key = bytes(data[:offset])
    if key not in NPY_HEADERS:
        member = io.BytesIO(key)
        version = np.lib.format.read_magic(member)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0}.get(
            version, np.lib.format.read_array_header_2_0)
        NPY_HEADERS[key] = read_header(member)
    return NPY_HEADERS[key], offset


def write_frame(stream, header, arrays=None):
    pieces, length = npz_pieces(arrays) if arrays else ([], 0)
    header = json.dumps(header).encode()
    stream.write(MAGIC + struct.pack("<I", len(header)) + header + struct.pack("<Q", length))
    for piece in pieces:
        stream.write(piece)  # each where it lies: joining them would copy the arrays
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
        return {"kind": "gradients"}, out
    if kind == "update":
        state = {}
        if header["optimizer"]["kind"] == "adam":
            state = {"m": parameters(arrays, "m."), "v": parameters(arrays, "v."), "t": header["t"]}
        grads = parameters(arrays, "grad.")
        new = model.update(parameters(arrays), grads, state, header["optimizer"])
        return {"kind": "updated"}, dict(new)
    raise ValueError(f"unknown request {kind!r}")


def widen_pipes():
    """Pipes of 1 MiB instead of Linux's 64 KiB: a default-network frame (2 MB) then crosses
    in two turns of the reader instead of thirty-two."""
    try:
        import fcntl

        for fd in (0, 1):
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)
    except (ImportError, AttributeError, OSError):
        pass  # not Linux, not a pipe, or over the system's limit: only slower


def main():
    widen_pipes()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # the model's prints must not enter the protocol stream
    sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[1])))  # as `python my_mlp.py`
    model = load(sys.argv[1])
    while True:
        header, arrays = read_frame(stdin)
        kind = header["kind"]
        if kind == "bye":
            return
        if kind == "hello":
            if header["protocol"] != PROTOCOL:
                write_frame(stdout, {"kind": "error", "message": f"this adapter speaks protocol {PROTOCOL}, not {header['protocol']}"})
                return
            if hasattr(model, "configure"):
                model.configure({k: v for k, v in header.items() if k not in ("kind", "protocol")})
            write_frame(stdout, {"kind": "hello", "protocol": PROTOCOL, "update": hasattr(model, "update")})
            continue
        try:
            reply, out = answer(model, header, arrays)
        except Exception as error:  # the model's own mistake: say which, then go on
            traceback.print_exc()
            write_frame(stdout, {"kind": "error", "message": f"{type(error).__name__}: {error}"})
            continue
        write_frame(stdout, reply, out)


if __name__ == "__main__":
    main()
