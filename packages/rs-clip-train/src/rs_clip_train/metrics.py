"""metrics.jsonl (and TensorBoard when installed): the run's log of metrics, written by rank 0 only."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .run_dir import METRICS


class MetricsLog:
    def __init__(self, run_dir: Path, resume_step: int):
        self.path = run_dir / METRICS
        # Steps after the resume point were computed by an interrupted attempt and are redone now.
        if self.path.exists():
            kept = [
                line
                for line in self.path.read_text().splitlines()
                if line.strip() and json.loads(line).get("step", 0) <= resume_step
            ]
            tmp = self.path.with_name(f".{METRICS}.tmp")
            tmp.write_text("".join(line + "\n" for line in kept))
            os.replace(tmp, self.path)
        self.file = open(self.path, "a", buffering=1)
        self.tb = None
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(run_dir / "tensorboard"), purge_step=resume_step + 1)
        except ImportError:  # tensorboard is optional
            pass

    def write(self, record: dict[str, Any]) -> None:
        self.file.write(json.dumps(record) + "\n")
        if self.tb is not None and "loss" in record:
            for key in ("loss", "lr", "temperature", "pairs_per_s"):
                if key in record:
                    self.tb.add_scalar(f"train/{key}", record[key], record["step"])

    def close(self) -> None:
        self.file.close()
        if self.tb is not None:
            self.tb.close()
