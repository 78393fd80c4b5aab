"""The analysis core of the training monitor: knows nothing of HTTP or SQL.

It is usable as a library and through the `monitor` CLI, so that a verdict computed on a laptop
is the verdict the server stores.
"""

__version__ = "0.1.0"
