"""The one error type every consumer of the contracts sees."""

from __future__ import annotations

from pathlib import Path


class FormatError(ValueError):
    """A dataset or checkpoint does not follow its contract.

    The message always starts with the offending file (and line, when there is one) so that a user
    can go straight to it; the library's own traceback is never the message.
    """

    def __init__(self, path: str | Path, message: str, line: int | None = None):
        # A URI stays as it is (a Path would fold its "//"), e.g. a rs_formats.location.Location.
        self.path = path if "://" in str(path) else Path(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {message}")
        self.reason = message

    def __reduce__(self):
        # Exceptions pickle as cls(*args), and args holds only the formatted message: rebuild from the
        # parts instead, so the error survives worker processes and Ray intact (subclasses too).
        return _rebuild, (type(self), self.path, self.reason, self.line, self.__dict__)


def _rebuild(cls: type[FormatError], path: Path, reason: str, line: int | None, state: dict) -> FormatError:
    exc = FormatError.__new__(cls)
    FormatError.__init__(exc, path, reason, line)
    exc.__dict__.update(state)
    return exc
