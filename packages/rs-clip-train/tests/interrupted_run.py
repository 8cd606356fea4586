"""Driver for the exact-resume test: trains, and at step KILL_AT kills this driver (SIGKILL) from a worker.

Usage: python interrupted_run.py DATASET RUN_DIR STEPS KILL_AT  (the remaining settings match test_fit.py)
"""

import os
import signal
import sys

from rs_clip_train import DataSource, fit, preset


def main() -> None:
    data, out, steps, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    driver = os.getpid()

    def kill_driver(step: int, rank: int, metrics: dict | None) -> None:
        if step == kill_at:
            if rank == 0:
                os.kill(driver, signal.SIGKILL)
            os.kill(os.getpid(), signal.SIGKILL)  # and this worker, as a lost machine would

    cfg = preset("tiny")
    cfg.data.sources = [DataSource(data)]
    cfg.out, cfg.steps = out, steps
    cfg.workers, cfg.checkpoint_every, cfg.log_every = 2, 4, 1
    cfg.data.loader_workers = 1
    fit(cfg, step_callback=kill_driver, progress=False)


if __name__ == "__main__":
    main()
