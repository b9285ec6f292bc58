"""Packaging: ``src/costperf`` plus the root ``standards/`` folder as package data.

``standards/`` stays where users see it, at the repository root, and ships inside the
package as ``costperf.standard_tables``; there is no second copy in git. The mapping
works for ``pip install .`` (wheel) and ``pip install -e .`` alike. Everything else is
declared in ``pyproject.toml``.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages("src"), "costperf.standard_tables", "costperf.policy_tables"],
    package_dir={
        "": "src",
        "costperf.standard_tables": "standards",
        "costperf.policy_tables": "policies",
    },
)
