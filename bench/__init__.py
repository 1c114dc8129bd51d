"""Benchmarks, side by side with the tools they compare against; run one with ``python -m bench.<name>``,
all with ``python -m bench.run_all`` (``make bench``)."""
