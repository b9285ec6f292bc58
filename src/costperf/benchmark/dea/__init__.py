"""DEA frontier package; the public API is re-exported by :mod:`costperf.benchmark.frontier`."""
