"""``python -m rs_clip_train`` (what ``torchrun -m rs_clip_train fit ...`` runs in every process)."""

import sys

from .cli import main

if __name__ == "__main__":  # not when a tool imports every module (to list error classes, say)
    sys.exit(main())
