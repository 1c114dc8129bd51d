"""Prometheus metrics of one model server, in a registry of its own (two apps in one process stay apart)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "hub_serving_requests", "Requests answered, by route and status.", ["route", "status"], registry=r
        )
        self.tokens = Counter(
            "hub_serving_tokens", "Tokens processed, by kind (prompt, completion).", ["kind"], registry=r
        )
        self.batch_size = Histogram(
            "hub_serving_batch_size", "Rows in each decode step.", buckets=(1, 2, 4, 8, 16, 32, 64, 128), registry=r
        )
        self.queue_wait = Histogram(
            "hub_serving_queue_wait_seconds", "Time from arrival to prefill.", buckets=_LATENCY, registry=r
        )
        self.ttft = Histogram(
            "hub_serving_time_to_first_token_seconds",
            "Time from arrival to the first token.",
            buckets=_LATENCY,
            registry=r,
        )
        self.adapter_loads = Counter("hub_serving_adapter_loads", "Adapters pulled and loaded.", registry=r)
        self.adapter_evictions = Counter(
            "hub_serving_adapter_evictions", "Adapters evicted from the cache.", registry=r
        )
        self.adapters_loaded = Gauge("hub_serving_adapters_loaded", "Adapters held now.", registry=r)
        self.running = Gauge("hub_serving_running_sequences", "Sequences in the running batch.", registry=r)
        self.waiting = Gauge("hub_serving_waiting_sequences", "Sequences waiting to join.", registry=r)
