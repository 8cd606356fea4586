"""A command run as a user at a terminal sees it: on a pseudo-terminal, so progress bars show, and its
screen read back as lines (escape codes dropped, each line as it was last drawn)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import termios
import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: A tqdm bar as drawn: "LABEL:  42%|####      | 5/12 [...]".
BAR = re.compile(r"^(?P<label>.+?):\s+\d+%\|")


def run_on_terminal(
    cmd: Sequence[str | Path], *, cwd: Path, env: dict[str, str], timeout: float, columns: int = 150
) -> tuple[int, str]:
    """(exit status, everything written to the terminal) of ``cmd`` with stdout and stderr on one pty."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    proc = subprocess.Popen(
        [str(c) for c in cmd], cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave
    )
    os.close(slave)
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every writer has closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait()
    reader.join(timeout=30)
    os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


def screen_lines(raw: str) -> list[str]:
    """The terminal's lines: a carriage return redraws its line, so each keeps its last drawing."""
    lines = []
    for line in re.split(r"\r*\n", ESCAPE.sub("", raw)):
        drawn = [part for part in line.split("\r") if part.strip()]
        lines.append(drawn[-1].rstrip() if drawn else "")
    return lines


def bar_labels(lines: Sequence[str]) -> Counter[str]:
    """How many lines each progress bar label was left on (one per bar, when nothing broke a bar in two)."""
    return Counter(m["label"] for m in map(BAR.match, lines) if m)
