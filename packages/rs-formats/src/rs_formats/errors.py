"""The one error type every consumer of the contracts sees."""

from __future__ import annotations

from pathlib import Path


class FormatError(ValueError):
    """A dataset or checkpoint does not follow its contract.

    The message always starts with the offending file (and line, when there is one) so that a user
    can go straight to it; the library's own traceback is never the message.
    """

    def __init__(self, path: str | Path, message: str, line: int | None = None):
        self.path = Path(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {message}")
        self.reason = message
