"""One served base and everything around it: the batched runtime, the adapter cache, the engine, the
metrics, and how a request's ``model`` and prompt become an adapter lease and token ids.

Why one object: both protocol views (OpenAI, LoRAX/TGI) answer from the same engine and cache, and
share one rule for naming models (the base's id, or ``NS/NAME@VERSION-OR-RANGE`` of an adapter).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from .adapter_cache import AdapterCache, Lease
from .auth import TokenChecker
from .errors import ServeError, bad_request
from .metrics import Metrics
from .settings import ServeSettings

log = logging.getLogger("hub_serving")


class ModelServer:
    def __init__(self, settings: ServeSettings):
        from adapters import load_base, pin_for, resolve_base
        from adapters.runtime.batched import BatchedRuntime
        from hub_client import HubClient
        from hub_client.bases import hub_resolver

        self.settings = settings

        def client() -> Any:
            return HubClient(settings.endpoint, settings.token, progress=False)

        base_dir = resolve_base(settings.base, resolver=hub_resolver(settings.endpoint, settings.token))
        self.pin = pin_for(base_dir)
        self.base_id = self.pin.id
        model, tokenizer = load_base(base_dir)
        if tokenizer is None or not hasattr(model, "generate"):
            raise ServeError(400, f"{settings.base}: not a causal language model with a tokenizer")
        self.model, self.tokenizer = model, tokenizer
        added = getattr(tokenizer, "added_tokens_decoder", {}) or {}
        self.special_ids = set(getattr(tokenizer, "all_special_ids", []) or []) | {
            i for i, t in added.items() if getattr(t, "special", False)
        }  # what decoding skips
        self.context = int(getattr(model.config, "max_position_embeddings", 0) or 0) or None
        self.metrics = Metrics()
        self.runtime = BatchedRuntime(model)
        lock = threading.Lock()
        self.cache = AdapterCache(
            self.runtime,
            self.pin,
            settings.max_adapters,
            client,
            require_signed=settings.require_signed,
            lock=lock,
            metrics=self.metrics,
        )
        from .engine import Engine

        self.engine = Engine(self.runtime, tokenizer, settings.max_batch_size, metrics=self.metrics, lock=lock)
        self.tokens = TokenChecker(settings.endpoint) if settings.require_token else None
        log.info("serving base %s (%s) from %s", self.base_id, self.pin.fingerprint, base_dir)

    def start(self) -> None:
        self.engine.start()

    def stop(self) -> None:
        self.engine.stop()

    # -- requests ---------------------------------------------------------------------------
    def check_token(self, authorization: str | None) -> None:
        if self.tokens is not None:
            self.tokens.check(authorization)

    async def lease(self, model: str | None) -> Lease:
        """The base for its own id (or none given), else the adapter ``model`` names, loaded and held."""
        model = (model or "").strip()
        if not model or model == self.base_id:
            return Lease(None)
        if len(model) > 300:
            raise bad_request("model: too long", param="model")
        return await asyncio.to_thread(self.cache.acquire, model)

    def release(self, lease: Lease) -> None:
        self.cache.release(lease)

    def model_name(self, lease: Lease) -> str:
        return lease.key or self.base_id

    def encode(self, prompt: str) -> list[int]:
        """A completion prompt as ``hub run --no-chat`` encodes it."""
        return list(self.tokenizer(prompt)["input_ids"])

    def encode_chat(self, messages: list[dict]) -> list[int]:
        """Chat messages through the base's chat template (``hub run`` without ``--no-chat``)."""
        if not getattr(self.tokenizer, "chat_template", None):
            raise bad_request(f"the base {self.base_id} has no chat template; use /v1/completions", param="messages")
        try:
            text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        except Exception as exc:  # noqa: BLE001 - a template that rejects these messages is the caller's input
            raise bad_request(
                f"messages: the chat template refused them ({type(exc).__name__}: {exc})", param="messages"
            ) from None
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def check_length(self, prompt_ids: list[int], max_tokens: int) -> None:
        if not prompt_ids:
            raise bad_request("the prompt is empty (no tokens)", param="prompt")
        if self.context and len(prompt_ids) + max_tokens > self.context:
            raise bad_request(
                f"{len(prompt_ids)} prompt tokens + max_tokens {max_tokens} exceed the base's "
                f"context of {self.context} tokens",
                param="max_tokens",
            )
        self.metrics.tokens.labels("prompt").inc(len(prompt_ids))

    def decode(self, token: int) -> str:
        return self.tokenizer.decode([token])
