"""Solvers that print nothing: HiGHS writes its banner to the process's stdout.

``highspy.Highs()`` prints a copyright banner from C++ straight to file descriptor 1
when it is constructed, before any option can be set; costperf's stdout carries only
its own account, so every HiGHS instance is made here with fd 1 pointed at /dev/null
for the moment of construction, and with ``output_flag`` off afterwards.

HiGHS's thread scheduler is global to the process: the first instance that runs fixes
the number of threads, and a later instance that asks for a different ``threads``
fails every solve with an error status (the DEA once set its own, and any other HiGHS
model solved earlier in the same process, such as the optimiser's, made every DEA score
NaN). So every instance is made here, all with the same :data:`THREADS` = 1:

* a MILP's answer must not depend on the machine: with HiGHS's default (half the
  cores) the case's savings plan stopped at another incumbent within the 1e-6 gap on 1,
  2 and 4 threads (322,023,371 / 391 / 306 yuan);
* one thread also costs half the CPU of two on that model (0.27 s against 0.55 s, the
  same wall time): the parallel work of HiGHS's MIP is speculative;
* costperf's own parallelism is outside HiGHS (the DEA solves independent models in
  Python threads; HiGHS releases the GIL).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator

_LOCK = threading.Lock()
#: HiGHS threads of every instance (one scheduler for the whole process)
THREADS = 1


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
        h.setOptionValue("threads", THREADS)
    for name, value in options.items():
        h.setOptionValue(name, value)
    return h
