"""`python -m hub_client.cli` is the same as the `hub` console script."""

from .main import main

main()
