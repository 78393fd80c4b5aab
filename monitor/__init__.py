"""The analysis core of the training monitor: knows nothing of HTTP or SQL.

It is usable as a library and through the `monitor` CLI, so that a verdict computed on a laptop
is the verdict the server stores.
"""

import os

# One OpenBLAS thread unless the caller chose otherwise (set before NumPy loads OpenBLAS, which
# reads it once). The core's matrix products are small (a probe's 53 thumbnails against an hour's
# 1800 samples), and OpenBLAS's threads spin while they wait for the next: on this 2-core machine
# under load, the 90 probes' distances of the 720p GOP-50 hour took 7.4 CPU-s with its default of
# 2 threads, 0.9 with one; the whole analysis 46.8 -> 38.4 CPU-s, and the bench's tampered and
# clean hours' reports the same byte for byte (once an unrounded correlation in a finding's args
# differed in its 8th digit, which the next run of the same code did not repeat).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
