"""Errors a user can act on.

Each carries one clear sentence; the CLI prints it as one line and the API turns it into problem
details, so no stack trace ever reaches a user.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError


class MonitorError(Exception):
    """Bad input that the user can fix: the message says what and where."""


class PolicyError(MonitorError):
    """An unknown profile or parameter, or a value of the wrong type."""


class ManifestError(MonitorError):
    """A class manifest that cannot be read or does not have the required shape."""


class ClassShapeError(ManifestError):
    """A class that breaks POLICY A5 (class size, teacher ratio, hour length, shares)."""

    def __init__(self, rule: str, clause: str, message: str) -> None:
        super().__init__(f"{rule} ({clause}): {message}")
        self.rule = rule
        self.clause = clause


def read_user_file(path: Path, what: str, error: type[MonitorError] = MonitorError) -> str:
    """A user's text file, or one clear error saying which file and why it cannot be read."""
    data = read_user_bytes(path, what, error)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"cannot read {what} {path}: {exc}") from None


def read_user_bytes(path: Path, what: str, error: type[MonitorError] = MonitorError) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise error(f"{what} not found: {path}") from None
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc}") from None


def first_problem(exc: ValidationError) -> tuple[str, str]:
    """(where, what) of the first error of a pydantic ValidationError, for a one-line message."""
    first = exc.errors()[0]
    return ".".join(str(p) for p in first["loc"]), first["msg"]
