"""A Ray worker's output: what libraries print goes to the run's logs/, the tool's own records to the console."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

WORKER = """
import logging, os, sys
from pathlib import Path
from rs_formats import console
from rs_clip_train.worker import library_output

console.setup("rs-clip-train")
log = logging.getLogger("rs_clip_train.data")
with library_output(Path(sys.argv[1]), "rs-clip-train"):
    print("DeepSpeed op built successfully")        # a library's print()
    os.write(2, b"[E core_worker.cc:1] C++ noise\\n")  # native code writing to fd 2
    logging.getLogger("torch.utils.cpp_extension").warning("No CUDA runtime is found")
    log.warning("image 'x/1' has no caption; skipped")
log.info("after the block: the console again")
print("/runs/final")                                 # the command's product, on stdout
"""


def test_library_output_goes_to_the_log_and_the_tools_records_to_the_console(tmp_path: Path):
    log_file = tmp_path / "run" / "logs" / "worker-0.log"
    log_file.parent.mkdir(parents=True)
    log_file.write_text("attempt 1\n")  # a restarted worker appends
    proc = subprocess.run(
        [sys.executable, "-c", WORKER, str(log_file)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "/runs/final\n"
    assert proc.stderr.splitlines() == [
        "rs-clip-train: warning: image 'x/1' has no caption; skipped",
        "rs-clip-train: after the block: the console again",
    ]
    logged = log_file.read_text()
    assert logged.startswith("attempt 1\n")
    for line in ("DeepSpeed op built successfully", "C++ noise", "No CUDA runtime is found"):
        assert line in logged
    assert "no caption" not in logged
