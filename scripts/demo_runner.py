"""How the demo runs the tools: each command printed before it runs, stages timed, and independent commands
side by side.

Side by side only where a stage is many short tools that draw no progress bar (rs-synth's writers): two at
a time on two cores keep both busy, where one at a time leaves one waiting for each process's start-up.
Their output is kept until each ends and then shown whole, so two tools' lines never interleave.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import IO


class Demo:
    def __init__(self, out: Path, cwd: Path, jobs: int = 1):
        self.out, self.cwd, self.jobs = out, cwd, max(1, jobs)
        self.times: dict[str, float] = {}

    def run(self, *cmd: str | Path, capture: bool = False) -> str:
        """Run a tool (printed first); its stdout is shown, or returned with ``capture``."""
        args = [str(c) for c in cmd]
        print(f"\n$ {shlex.join(args)}", flush=True)
        proc = subprocess.run(args, cwd=self.cwd, stdout=subprocess.PIPE if capture else None, text=True)
        if proc.returncode != 0:
            sys.exit(f"demo: stage failed ({proc.returncode}): {shlex.join(args)}")
        return proc.stdout or ""

    def run_all(self, jobs: Sequence[tuple[Sequence[str | Path], Collection[int]]]) -> None:
        """Run ``(command, needs)`` pairs, up to ``self.jobs`` at a time; a command starts once the commands
        it needs (indices into ``jobs``) have ended. Each is printed as it starts, its output when it ends."""
        pending, done = list(range(len(jobs))), set()
        running: dict[int, tuple[subprocess.Popen, IO[str]]] = {}
        while pending or running:
            for i in [i for i in pending if set(jobs[i][1]) <= done][: self.jobs - len(running)]:
                pending.remove(i)
                args = [str(c) for c in jobs[i][0]]
                print(f"\n$ {shlex.join(args)}", flush=True)
                log = tempfile.TemporaryFile("w+")
                running[i] = subprocess.Popen(args, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT), log
            if not running:
                sys.exit("demo: commands wait for each other")  # a needs cycle: a bug in the demo
            time.sleep(0.05)
            for i, (proc, log) in list(running.items()):
                if proc.poll() is None:
                    continue
                del running[i]
                log.seek(0)
                print(log.read(), end="", flush=True)
                log.close()
                if proc.returncode != 0:
                    for other, _ in running.values():
                        other.kill()
                    sys.exit(f"demo: stage failed ({proc.returncode}): {shlex.join(proc.args)}")
                done.add(i)

    def stage(self, name: str):
        demo = self

        class _Timer:
            def __enter__(self):
                print(f"\n=== {name}", flush=True)
                self.t0 = time.monotonic()

            def __exit__(self, *exc):
                demo.times[name] = time.monotonic() - self.t0

        return _Timer()
