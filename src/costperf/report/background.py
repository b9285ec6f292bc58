"""Charts drawn by a second process while the run goes on.

The program itself (``costperf run`` from a shell, not :func:`costperf.cli.main` called
in process) on a machine with two cores or more: :func:`charts_beside` starts one
worker process as soon as the output folder is checked. It imports matplotlib and
loads the CJK font while this process imports its own modules, reads and analyses the
case (the worker may solve the case's savings plan meanwhile: :func:`submit_call`);
then every chart of the reports (:func:`costperf.report.charts.chart`) is sent to it
and drawn there while this process writes the workbook and the published standard. A chart is a pure function of its
arguments, so the worker's PNG is the one this process would have drawn (a test
compares the two runs' reports byte for byte).

Where the worker cannot be used (one core, ``COSTPERF_CHART_WORKER=0``, a worker that
died) every chart is drawn here, as before.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager

#: set by the program itself (:func:`costperf.cli.main` with no argv); ``main`` called in
#: process (the tests) draws its charts in process and keeps its memo of them
_ALLOWED = False
_POOL = None


def allow() -> None:
    """Let :func:`charts_beside` start a worker (the program itself, not a library call)."""
    global _ALLOWED
    _ALLOWED = True


def freeze_heap() -> None:
    """In the program itself (:func:`allow`), leave every object made so far (the
    modules, the case's data) out of later cyclic collections (:func:`gc.freeze`): they
    live until the process exits, and each collection of the middle generation walked
    them all (two of them, ~0.1 s of a ``costperf run``). Nothing when
    :func:`costperf.cli.main` is called in process (a test suite), whose garbage must
    stay collectable."""
    if _ALLOWED:
        import gc

        gc.freeze()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@contextmanager
def charts_beside() -> Iterator[None]:
    """Within: charts are drawn by a worker process (when allowed and useful)."""
    global _POOL
    if not _ALLOWED or _POOL is not None or os.environ.get("COSTPERF_CHART_WORKER") == "0":
        yield
        return
    if _cores() < 2:
        yield
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    try:
        pool = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_start
        )
        pool.submit(_warm)  # imports and the font while this process works
    except Exception:  # noqa: BLE001 - no processes here (no semaphores, a sandbox)
        pool = None
    if pool is None:  # the charts are drawn here
        yield
        return
    _POOL = pool
    _SENT.clear()
    _BY_KEY.clear()
    try:
        yield
    except BaseException:  # a failed or interrupted run does not wait for its charts
        _POOL = None
        _stop(pool)
        raise
    _POOL = None
    if all(future.done() for future in _SENT):
        _stop(pool)  # every chart is in: no need to wait ~0.2 s for the worker to exit
    else:
        pool.shutdown(wait=True)
    _SENT.clear()
    _BY_KEY.clear()


#: the charts sent to the worker of the current :func:`charts_beside`, and those of them
#: whose arguments have a fingerprint (:func:`costperf.report.charts._args_key`) by it
_SENT: list[Future] = []
_BY_KEY: dict[str, PendingChart] = {}


def active() -> bool:
    """A worker draws the charts (within :func:`charts_beside`, when it could start)."""
    return _POOL is not None


def sent(key: str | None) -> PendingChart | None:
    """The chart already sent with these arguments (sent early: see ``costperf run``)."""
    return None if key is None else _BY_KEY.get(key)


def _stop(pool) -> None:  # noqa: ANN001 - a ProcessPoolExecutor
    """End the worker now: it holds nothing but charts being drawn.

    The pool is then shut down waiting for its threads (quick: the process is gone). Not
    waiting races with the interpreter's exit, which wakes the pool's thread through a
    pipe that thread may have closed already ("Exception ignored ... OSError: [Errno 9]
    Bad file descriptor" on stderr, seen about once in 20 runs).
    """
    for process in list(getattr(pool, "_processes", {}).values()):
        process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


class PendingChart:
    """A chart being drawn by the worker; :meth:`result` gives its PNG bytes."""

    def __init__(
        self, future: Future, draw_here: Callable[[], bytes], key: str | None = None
    ) -> None:
        """``key``: the future's result is the fingerprint of the chart drawn and its
        PNG (:func:`expect`), which must be this one."""
        self._future, self._draw_here, self._key = future, draw_here, key

    def result(self) -> bytes:
        try:
            png = self._future.result()
        except Exception:  # noqa: BLE001 - drawn here again instead (BrokenProcessPool too)
            # the worker died (killed, out of memory), or an argument did not pickle: a
            # chart that fails for itself fails here too, with its own traceback
            return self._draw_here()
        if self._key is None:
            return png
        key, png = png
        return png if key == self._key else self._draw_here()


def submit(
    render: Callable[..., bytes], args: tuple, kwargs: dict, key: str | None = None
) -> PendingChart | None:
    """Send one chart to the worker; None when there is none (the caller draws it).
    ``key`` (the fingerprint of its arguments) lets a later call find it: :func:`sent`."""
    future = _submitted(_draw, render, args, kwargs)
    if future is None:  # no worker, or a dead or shut-down one: the caller draws it
        return None
    pending = PendingChart(future, lambda: render.figure_png(*args, **kwargs))
    if key is not None:
        _BY_KEY[key] = pending
    return pending


class Pending:
    """A call being run by the worker (:func:`submit_call`); :meth:`result` gives its
    value, or runs the call here when the worker could not (a result of the same pure
    call, or its own exception with its traceback)."""

    def __init__(self, future: Future, here: Callable[[], object]) -> None:
        self._future, self._here = future, here

    def result(self) -> object:
        try:
            return self._future.result()
        except Exception:  # noqa: BLE001 - run here instead (a dead worker, an input error)
            return self._here()


def submit_call(func: Callable, *args: object, **kwargs: object) -> Pending | None:
    """Run ``func(*args, **kwargs)`` (a pure module-level function whose arguments and
    result pickle) in the worker, beside this process; None when there is no worker.
    The worker runs the calls (and draws the charts) in the order they were sent."""
    future = _submitted(_call, func, args, kwargs)
    if future is None:  # no worker, or a dead or shut-down one: the caller runs it
        return None
    return Pending(future, lambda: func(*args, **kwargs))


def _submitted(target: Callable, func: Callable, args: tuple, kwargs: dict) -> Future | None:
    """``func`` sent by name to the worker's ``target`` (:func:`_draw`, :func:`_call`);
    None when there is no worker or it is dead or shut down."""
    pool = _POOL
    if pool is None:
        return None
    from concurrent.futures.process import BrokenProcessPool

    try:
        future = pool.submit(target, func.__module__, func.__name__, args, kwargs)
    except (BrokenProcessPool, RuntimeError):
        return None
    _SENT.append(future)
    return future


def expect(key: str, drawing: Pending, draw_here: Callable[[], bytes]) -> None:
    """The chart of fingerprint ``key`` (:func:`sent`) is the one a call of the worker is
    drawing (``drawing``, :func:`submit_call`, whose result is the fingerprint of what it
    drew and its PNG): a later call of that chart finds it instead of sending it. Drawn
    here (``draw_here``) if that call fails or drew a chart of other arguments."""
    _BY_KEY[key] = PendingChart(drawing._future, draw_here, key=key)


def png_bytes(png: bytes | PendingChart) -> bytes:
    """The PNG bytes of a chart, drawn here or by the worker."""
    return png.result() if isinstance(png, PendingChart) else png


# ---- in the worker ------------------------------------------------------------------


def _start() -> None:
    """The worker's cyclic garbage collector runs as seldom as the program's own
    (:func:`costperf.cli.fewer_collections`): at Python's default thresholds its imports
    and charts set off three full collections of a heap of pandas, matplotlib and the
    font, most of the collector's ~0.9 s in the worker (~0.25 s at these). numpy's test
    and f2py modules load only if used (:mod:`costperf.lazy_imports`)."""
    import gc

    from costperf.cli import GC_THRESHOLDS
    from costperf.lazy_imports import defer_numpy_extras

    gc.set_threshold(*GC_THRESHOLDS)
    defer_numpy_extras()  # before SciPy (the savings plan's sparse matrix)
    _no_artist_docstrings()


def _no_artist_docstrings() -> None:
    """In the worker, before matplotlib's artists are imported: no property lists in
    their docstrings. Each Artist class matplotlib defines writes the signature and
    docstring of its ``set`` from every setter of the class, and its modules interpolate
    the same lists (``artist.kwdoc``) into their docstrings: ~0.15-0.25 s of the worker's
    0.4 s of matplotlib imports. Nothing drawn reads them (the worker's PNGs are those
    drawn in process: a test compares them byte for byte); a matplotlib without these
    two names is imported as it is."""
    from matplotlib import artist

    update = getattr(artist.Artist, "_update_set_signature_and_docstring", None)
    if update is None or not callable(getattr(artist, "kwdoc", None)):
        return

    def mark_set(cls: type) -> None:  # what Artist.__init_subclass__ looks for
        cls.set._autogenerated_signature = True

    artist.Artist._update_set_signature_and_docstring = classmethod(mark_set)
    artist.kwdoc = lambda _artist: ""


def _warm() -> None:
    """Import the charts and load the CJK font before the first chart comes; then keep
    what that made out of the collector's way (:func:`gc.freeze`: the modules and the
    font live as long as the worker, which is ended, not collected)."""
    import gc

    from costperf.report import charts, optimize  # noqa: F401 - every module of charts

    fig = charts.new_figure(1, 1)
    ax = fig.add_subplot()
    ax.set_title("成本 cost 0.1%")
    charts.to_png(fig)
    gc.freeze()


def _draw(module: str, name: str, args: tuple, kwargs: dict) -> bytes:
    import importlib

    from costperf.report.fonts import missing_glyphs_quiet

    with missing_glyphs_quiet():  # as in the program's own process
        return getattr(importlib.import_module(module), name)(*args, **kwargs)


def _call(module: str, name: str, args: tuple, kwargs: dict) -> object:
    import importlib

    return getattr(importlib.import_module(module), name)(*args, **kwargs)
