"""Helpers the suites and the benches share: real hub processes and deployments (``hub_process``,
``deployment``, ``rr_proxy``, ``s3_server``), hostile and HTTP clients, tiny real models and pinned
adapters (``tiny_bases``, ``stack_fixtures``, ``peft_dirs``), and the import scan."""
