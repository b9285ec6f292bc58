"""Modules a run never uses, loaded only when something reads them.

SciPy's bundled ``array_api_compat`` (imported by ``scipy.special`` and
``scipy.sparse``) copies numpy's namespace (``from numpy import *`` and every name of
``dir(numpy)``), and numpy loads ``numpy.testing`` and ``numpy.f2py`` the moment their
names are read: with them unittest, difflib and charset_normalizer, ~0.05 s of a
process's CPU that no run uses. :func:`defer_numpy_extras` puts both in place as
:class:`importlib.util.LazyLoader` modules: the name is there, the module runs at its
first attribute read (``numpy.testing.assert_equal`` works as before).
"""

from __future__ import annotations

import importlib.util
import sys

#: numpy's lazily loaded submodules that SciPy's namespace copy reads but never uses
NUMPY_EXTRAS = ("testing", "f2py")


def defer_numpy_extras() -> None:
    """Make ``numpy.testing`` and ``numpy.f2py`` load at their first use, not when
    SciPy copies numpy's namespace. Imports numpy; a submodule already imported (or
    absent) is left as it is."""
    import numpy

    for name in NUMPY_EXTRAS:
        full = f"numpy.{name}"
        if full in sys.modules or name in vars(numpy):
            continue
        spec = importlib.util.find_spec(full)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            continue
        spec.loader = importlib.util.LazyLoader(spec.loader)
        module = importlib.util.module_from_spec(spec)
        sys.modules[full] = module
        spec.loader.exec_module(module)  # deferred: runs at the first attribute read
        setattr(numpy, name, module)  # as the import system binds a loaded submodule
