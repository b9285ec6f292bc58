"""Solvers that print nothing: HiGHS writes its banner to the process's stdout.

``highspy.Highs()`` prints a copyright banner from C++ straight to file descriptor 1
when it is constructed, before any option can be set; costperf's stdout carries only
its own account, so every HiGHS instance is made here with fd 1 pointed at /dev/null
for the moment of construction, and with ``output_flag`` off afterwards.

HiGHS's thread scheduler is global to the process: the first instance that runs fixes
the number of threads, and a later instance that asks for a different ``threads``
fails every solve with an error status. So costperf never sets ``threads`` (the DEA
once did, and any other HiGHS model solved earlier in the same process, such as the
optimiser's, made every DEA score NaN).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator

_LOCK = threading.Lock()


@contextlib.contextmanager
def stdout_silenced() -> Iterator[None]:
    """Point file descriptor 1 at /dev/null for the duration (C-level output too)."""
    with _LOCK:
        try:
            sys.stdout.flush()
        except (AttributeError, OSError, ValueError):
            pass
        try:
            saved = os.dup(1)
        except OSError:  # no fd 1 (e.g. a closed stdout): nothing to silence
            yield
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)


def quiet_highs(**options: object):
    """A ``highspy.Highs`` instance with no banner and no log, with ``options`` set.

    Parameters
    ----------
    **options
        HiGHS options, e.g. ``presolve="off"``, ``time_limit=60.0`` (not ``threads``:
        see the module docstring).
    """
    if "threads" in options:
        msg = "HiGHS 'threads' is process-wide; do not set it per model"
        raise ValueError(msg)
    import highspy

    with stdout_silenced():
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("log_to_console", False)
    for name, value in options.items():
        h.setOptionValue(name, value)
    return h
