"""``python -m rs_clip_train`` (what ``torchrun -m rs_clip_train fit ...`` runs in every process)."""

import sys

from .cli import main

sys.exit(main())
