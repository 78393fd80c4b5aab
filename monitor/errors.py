"""Errors a user can act on.

Each carries one clear sentence; the CLI prints it as one line and the API turns it into problem
details, so no stack trace ever reaches a user.
"""


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
