"""The shipped standard tables (data only: ``*.toml`` headers and ``*.csv`` values).

Installed as the package ``costperf.standard_tables`` (``setup.py`` maps this folder),
so a source checkout and an installed costperf read the same single copy.
"""
