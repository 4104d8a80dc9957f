"""Not the adapter: answers the hello in protocol version 1 (a client older than the
harness), then waits for its stdin to end."""
import json
import struct
import sys

stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
stdin.read(4)
header = stdin.read(struct.unpack("<I", stdin.read(4))[0])
stdin.read(struct.unpack("<Q", stdin.read(8))[0])
reply = json.dumps({"kind": "hello", "protocol": 1}).encode()
stdout.write(b"MLPP" + struct.pack("<I", len(reply)) + reply + struct.pack("<Q", 0))
stdout.flush()
stdin.read()
