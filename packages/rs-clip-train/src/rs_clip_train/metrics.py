"""metrics.jsonl and the experiment trackers of ``--report-to``: the run's log of metrics, written by rank 0."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .run_dir import METRICS
from .tracking import open_trackers, scalars

if TYPE_CHECKING:
    from .config import TrainConfig


class MetricsLog:
    def __init__(self, run: TrainConfig, resume_step: int):
        run_dir = Path(run.out)
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
        self.trackers = open_trackers(run, run_dir, resume_step)

    def write(self, record: dict[str, Any]) -> None:
        self.file.write(json.dumps(record) + "\n")
        numbers = scalars(record)
        if numbers:
            for tracker in self.trackers:
                tracker.log(numbers, record["step"])

    def close(self) -> None:
        self.file.close()
        for tracker in self.trackers:
            tracker.close()
