"""The engine: one thread owns the model and runs a continuous batch; requests join and leave it between
decode steps.

Why one thread: the model, its hooks and the decode batch are touched by this thread only (adapter loads
take the same lock), so a forward never sees half an adapter. Each loop admits waiting requests (each
prefilled alone, as ``hub run`` starts it), runs one decode step for every running row at once, hands
each request its token, and drops finished or abandoned rows. Protocol views talk to it through
``submit``, which returns an async iterator of events.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from .sampling import Choice, SamplingParams, TextTracker, choose, generator_for

log = logging.getLogger("hub_serving")


@dataclass
class Token:
    text: str  # new text safe to send (may be empty)
    choice: Choice


@dataclass
class Done:
    finish_reason: str  # "stop" | "length"
    prompt_tokens: int
    completion_tokens: int
    text: str


@dataclass
class Failed:
    message: str


@dataclass
class Job:
    adapter: str | None
    prompt_ids: list[int]
    params: SamplingParams
    emit: Callable[[Any], None]
    cancelled: threading.Event = field(default_factory=threading.Event)
    enqueued: float = field(default_factory=time.perf_counter)
    tracker: TextTracker | None = None
    gen: torch.Generator | None = None
    last: int = 0
    count: int = 0


class Engine:
    """``submit`` a job; the engine thread prefills it, batches its decode steps, and emits events."""

    def __init__(
        self,
        runtime: Any,
        tokenizer: Any,
        max_batch_size: int = 16,
        metrics: Any = None,
        lock: threading.Lock | None = None,
    ):
        from adapters.runtime.decode_batch import DecodeBatch

        self.runtime = runtime
        self.tokenizer = tokenizer
        self.max_batch_size = max(1, int(max_batch_size))
        self.metrics = metrics
        self.lock = lock or threading.Lock()
        self.batch = DecodeBatch(runtime)
        self.running: list[Job] = []
        self._queue: collections.deque[Job] = collections.deque()
        self._wake = threading.Condition()
        self._stopping = False
        eos = getattr(tokenizer, "eos_token_id", None)
        self.eos = {eos} if isinstance(eos, int) else set(eos or [])
        self._thread = threading.Thread(target=self._loop, name="hub-serving-engine", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self._thread.join(timeout=10)

    @property
    def waiting(self) -> int:
        return len(self._queue)

    # -- the caller's side ------------------------------------------------------------------
    def enqueue(self, job: Job) -> None:
        with self._wake:
            self._queue.append(job)
            self._wake.notify()

    async def submit(
        self,
        adapter: str | None,
        prompt_ids: list[int],
        params: SamplingParams,
        on_close: Callable[[], None] | None = None,
    ) -> AsyncIterator[Any]:
        """Events for one sequence: ``Token``… then ``Done`` (or ``Failed``). Closing the iterator early
        (a client that went away) takes the row out of the batch at the next step."""
        loop = asyncio.get_running_loop()
        events: asyncio.Queue = asyncio.Queue()
        job = Job(adapter, list(prompt_ids), params, lambda e: _deliver(loop, events, job, e))
        self.enqueue(job)
        try:
            while True:
                event = await events.get()
                yield event
                if isinstance(event, (Done, Failed)):
                    return
        finally:
            job.cancelled.set()
            if on_close is not None:
                on_close()

    # -- the engine thread ------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._stopping and not self._queue and not self.running:
                    self._wake.wait(timeout=1.0)
                if self._stopping:
                    return
            try:
                self._admit()
                if self.running:
                    self._step()
            except Exception as exc:  # a failed step fails its rows, never the server
                log.exception("engine step failed")
                for job in [*self.running]:
                    try:
                        job.emit(Failed(f"generation failed: {type(exc).__name__}: {exc}"))
                    except Exception:  # a caller that is gone cannot be told; the engine runs on
                        log.debug("could not deliver a failure", exc_info=True)
                self.running = []
                from adapters.runtime.decode_batch import DecodeBatch

                self.batch = DecodeBatch(self.runtime)

    def _admit(self) -> None:
        from adapters.runtime.decode_batch import prefill

        while len(self.running) < self.max_batch_size:
            with self._wake:
                if not self._queue:
                    return
                job = self._queue.popleft()
            if job.cancelled.is_set():
                continue
            if self.metrics:
                self.metrics.queue_wait.observe(time.perf_counter() - job.enqueued)
            job.tracker = TextTracker(self.tokenizer, job.params.stop)
            job.gen = generator_for(job.params)
            ids = torch.tensor([job.prompt_ids], dtype=torch.long, device=self.runtime.model.device)
            try:
                with self.lock:
                    seq = prefill(self.runtime, job.adapter, ids)
            except Exception as exc:  # this request fails; the batch runs on
                log.exception("prefill failed")
                job.emit(Failed(f"generation failed: {type(exc).__name__}: {exc}"))
                continue
            if self.metrics:
                self.metrics.ttft.observe(time.perf_counter() - job.enqueued)
            if self._advance(job, seq.logits):
                with self.lock:
                    self.batch.join(seq)
                self.running.append(job)

    def _step(self) -> None:
        gone = [i for i, job in enumerate(self.running) if job.cancelled.is_set()]
        if gone:
            self._leave(gone)
        if not self.running:
            return
        if self.metrics:
            self.metrics.batch_size.observe(len(self.running))
        with self.lock:
            logits = self.batch.step([job.last for job in self.running])
        finished = [i for i, job in enumerate(self.running) if not self._advance(job, logits[i])]
        if finished:
            self._leave(finished)

    def _leave(self, rows: list[int]) -> None:
        with self.lock:
            self.batch.leave(rows)
        drop = set(rows)
        self.running = [job for i, job in enumerate(self.running) if i not in drop]

    def _advance(self, job: Job, logits: torch.Tensor) -> bool:
        """Pick and emit one token; False when the job is finished (and told so)."""
        choice = choose(logits, job.params, job.gen)
        job.last = choice.token
        job.count += 1
        if self.metrics:
            self.metrics.tokens.labels("completion").inc()
        if choice.token in self.eos:
            return self._finish(job, "stop", choice)
        text = job.tracker.add(choice.token)
        if job.tracker.stopped:
            return self._finish(job, "stop", choice, text)
        if job.count >= job.params.max_tokens:
            return self._finish(job, "length", choice, text + job.tracker.flush())
        job.emit(Token(text, choice))
        return True

    def _finish(self, job: Job, reason: str, choice: Choice, text: str | None = None) -> bool:
        tail = job.tracker.flush() if text is None else text
        job.emit(Token(tail, choice))
        job.emit(Done(reason, len(job.prompt_ids), job.count, job.tracker.text))
        return False


def _deliver(loop: asyncio.AbstractEventLoop, events: asyncio.Queue, job: Job, event: Any) -> None:
    """Hand ``event`` to the caller's event loop; a caller whose loop has closed has left, so its row is
    cancelled instead (a closed loop must never take the engine thread down with it)."""
    try:
        loop.call_soon_threadsafe(events.put_nowait, event)
    except RuntimeError:
        job.cancelled.set()
