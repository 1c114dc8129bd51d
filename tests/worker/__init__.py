"""Tests of hub_worker: real hub, real broker, real `hub worker` processes."""
