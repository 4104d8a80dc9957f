"""Answers the hello, then never answers again: it ignores its stdin closing (it never reads
it again) and the polite signals (SIGTERM, SIGHUP, SIGINT), so that only SIGKILL stops it.
Before answering it writes to the file argv[1] (by a rename, so that it is whole when seen)
its pid, its process group, the paths the hello names and the device and inode of each,
for a test to look for them afterwards."""
import json
import os
import signal
import struct
import sys
import time

for polite in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
    signal.signal(polite, signal.SIG_IGN)
stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
assert stdin.read(4) == b"MLPP"
hello = json.loads(stdin.read(struct.unpack("<I", stdin.read(4))[0]))
stdin.read(8)
paths = [hello["files"]["requests"], hello["files"]["answers"]]
files = [open(path, "r+b") for path in paths]
inodes = [[os.fstat(f.fileno()).st_dev, os.fstat(f.fileno()).st_ino] for f in files]
report = {"pid": os.getpid(), "pgid": os.getpgid(0), "paths": paths, "inodes": inodes}
with open(sys.argv[1] + ".part", "w") as out:
    json.dump(report, out)
os.rename(sys.argv[1] + ".part", sys.argv[1])
answer = json.dumps({"kind": "hello", "protocol": 2}).encode()
stdout.write(b"MLPP" + struct.pack("<I", len(answer)) + answer + struct.pack("<Q", 0))
stdout.flush()
while True:
    time.sleep(3600)
