#!/bin/sh
# deaf.py ($1, the Python; $2, its report) under a shell that stays, as any script that does
# more than exec one command: the candidate's process is this shell's child, a grandchild
# of the harness.
"$1" "$(dirname "$0")/deaf.py" "$2"
echo "deaf.py ended" >&2
