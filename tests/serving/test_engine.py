"""The engine in process: concurrent requests share decode steps, a seeded sampled request gives the same tokens
alone or in company, a request whose client went away leaves the batch, and a stop string ends the text."""

from __future__ import annotations

import asyncio
import time

import pytest

from adapters import load_base
from adapters.runtime.batched import BatchedRuntime
from hub_serving.engine import Done, Engine, Token
from hub_serving.metrics import Metrics
from hub_serving.sampling import SamplingParams
from tests.serving.runtime_fixtures import hub_run_tokens, make_tiny_adapters


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    base, adapters = make_tiny_adapters(tmp_path_factory.mktemp("eng"), ["lora-a", "ia3"])
    model, tok = load_base(base)
    runtime = BatchedRuntime(model)
    for name, path in adapters.items():
        runtime.add(name, path)
    eng = Engine(runtime, tok, max_batch_size=4, metrics=Metrics())
    eng.eos = set()  # full lengths, so rows overlap
    eng.start()
    yield eng, base, adapters, tok
    eng.stop()


async def _tokens(eng, adapter, prompt_ids, params, stop_after=None):
    out = []
    stream = eng.submit(adapter, prompt_ids, params)
    async for event in stream:
        if isinstance(event, Token):
            out.append(event.choice.token)
            if stop_after is not None and len(out) >= stop_after:
                await stream.aclose()
                return out
        if isinstance(event, Done):
            return out
    return out


def test_concurrent_requests_share_steps_and_equal_hub_run(engine):
    eng, base, adapters, tok = engine
    greedy = SamplingParams(max_tokens=8, temperature=0)
    sampled = SamplingParams(max_tokens=8, temperature=1.3, top_p=0.9, seed=11)
    ids = tok("say cat")["input_ids"]

    async def together():
        return await asyncio.gather(
            _tokens(eng, "lora-a", ids, greedy),
            _tokens(eng, None, ids, greedy),
            _tokens(eng, "ia3", ids, sampled),
            _tokens(eng, "ia3", ids, greedy),
            _tokens(eng, "lora-a", ids, greedy, stop_after=2),
        )

    lora, plain, seeded, ia3, cut = asyncio.run(together())
    assert lora == hub_run_tokens(base, adapters["lora-a"], "say cat", 8)
    assert plain == hub_run_tokens(base, None, "say cat", 8)
    assert ia3 == hub_run_tokens(base, adapters["ia3"], "say cat", 8)
    assert len(cut) == 2
    alone = asyncio.run(_tokens(eng, "ia3", ids, sampled))
    assert alone == seeded and seeded != ia3  # the seed decides, not the batch's other rows
    deadline = time.monotonic() + 10  # the last Done is sent just before its row leaves
    while (eng.running or eng.waiting) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not eng.running and not eng.waiting  # the abandoned row left too
    sizes = eng.metrics.batch_size.collect()[0].samples
    assert max(s.value for s in sizes if s.name.endswith("_sum")) > 8  # steps with several rows


def test_stop_string_ends_the_text(engine):
    eng, base, adapters, tok = engine
    ids = tok("say cat")["input_ids"]
    full = tok.decode(hub_run_tokens(base, adapters["lora-a"], "say cat", 8), skip_special_tokens=True)
    stop = full[3:5]

    async def run():
        events = []
        async for event in eng.submit("lora-a", ids, SamplingParams(max_tokens=8, temperature=0, stop=(stop,))):
            events.append(event)
        return events

    events = asyncio.run(run())
    done = events[-1]
    assert isinstance(done, Done) and done.finish_reason == "stop"
    assert done.text == full[: full.find(stop)]
    assert "".join(e.text for e in events if isinstance(e, Token)) == done.text


def test_a_caller_whose_event_loop_closed_does_not_stop_the_engine(engine):
    """A caller that leaves without closing its stream (its event loop closed under it) is dropped; the
    engine thread keeps serving everyone else."""
    eng, base, _adapters, tok = engine
    ids = tok("say cat")["input_ids"]
    loop = asyncio.new_event_loop()
    stream = eng.submit("lora-a", ids, SamplingParams(max_tokens=8, temperature=0))
    loop.run_until_complete(stream.__anext__())  # one token, then the loop goes away mid-stream
    loop.close()
    time.sleep(0.5)  # the engine tries to deliver the next tokens to the closed loop
    assert eng._thread.is_alive()
    after = asyncio.run(asyncio.wait_for(_tokens(eng, None, ids, SamplingParams(max_tokens=4, temperature=0)), 60))
    assert after == hub_run_tokens(base, None, "say cat", 4)
