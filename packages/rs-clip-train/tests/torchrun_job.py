"""Several ``rs-clip-train fit`` runs in one torchrun job, so that its processes import torch, DeepSpeed and
open_clip once for all of them: ``torchrun --nproc-per-node N torchrun_job.py RUNS_JSON``, where RUNS_JSON
is a list of ``fit`` argument lists. The job owns the process group; each run uses it as it is, as a
program that calls ``fit`` several times in one torchrun job does. Stops at the first run that fails.
"""

import json
import sys

import torch.distributed as dist

from rs_clip_train.cli import main


def run_all(runs: list[list[str]]) -> int:
    dist.init_process_group("gloo")
    try:
        for args in runs:
            code = main(["fit", *args])
            if code:
                return code
    finally:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(run_all(json.loads(sys.argv[1])))
