"""The test suite, a package: run it from the repository root with ``python -m pytest``."""
