"""LoRAX / TGI's API over the engine: ``POST /generate``, ``/generate_stream`` and LoRAX's ``POST /`` (what
``lorax-client`` calls), with ``parameters.adapter_id`` naming a hub adapter (``adapter_source: "hub"``).

Why: applications written for LoRAX or TGI switch to a hub's adapters by pointing at this server. Greedy
unless ``do_sample`` (TGI's default); refusals are TGI's ``{"error", "error_type"}`` in one line.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from .engine import Done, Failed, Token
from .errors import ServeError, bad_request
from .openai_views import read_body
from .sampling import SamplingParams

router = APIRouter()
FINISH = {"length": "length", "stop": "stop_sequence", "eos": "eos_token"}


class Parameters(BaseModel):
    model_config = ConfigDict(extra="ignore")

    adapter_id: str | None = Field(default=None, max_length=300)
    adapter_source: str | None = None
    do_sample: bool = False
    max_new_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, gt=0.0, le=100.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    seed: int | None = Field(default=None, ge=0)
    stop: list[str] = Field(default_factory=list, max_length=4)
    details: bool = False
    decoder_input_details: bool = False
    return_full_text: bool = False
    merged_adapters: dict | None = None
    best_of: int | None = None


class GenerateBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    inputs: str = Field(min_length=1)
    parameters: Parameters = Field(default_factory=Parameters)
    stream: bool = False


async def _body(request: Request) -> GenerateBody:
    body: GenerateBody = await read_body(request, GenerateBody)
    p = body.parameters
    if p.adapter_source not in (None, "hub"):
        raise bad_request(
            f'adapter_source {p.adapter_source!r}: this server loads adapters from its hub only (adapter_source: "hub")'
        )
    if p.merged_adapters:
        raise bad_request("merged_adapters is not supported; name one adapter in adapter_id")
    if p.best_of not in (None, 1):
        raise bad_request("best_of is not supported")
    return body


def _params(p: Parameters, server: Any) -> SamplingParams:
    limit = server.settings.max_new_tokens_limit
    if p.max_new_tokens is not None and p.max_new_tokens > limit:
        raise bad_request(f"max_new_tokens: at most {limit}")
    sample = p.do_sample or (p.temperature not in (None, 1.0)) or (p.top_p not in (None, 1.0))
    return SamplingParams(
        max_tokens=p.max_new_tokens or 20,
        temperature=(p.temperature or 1.0) if sample else 0.0,
        top_p=p.top_p or 1.0,
        seed=p.seed,
        stop=tuple(p.stop),
        logprobs=0,
    )


async def _start(request: Request):
    server = request.app.state.server
    server.check_token(request.headers.get("authorization"))
    body = await _body(request)
    params = _params(body.parameters, server)
    prompt = server.encode(body.inputs)
    server.check_length(prompt, params.max_tokens)
    lease = await server.lease(body.parameters.adapter_id)
    return server, body, params, prompt, lease


def _token(server: Any, event: Token) -> dict:
    c = event.choice
    return {
        "id": c.token,
        "text": server.decode(c.token),
        "logprob": c.logprob if c.logprob is not None else 0.0,
        "special": c.token in server.special_ids,
    }


def _reason(server: Any, done: Done, last: Token | None) -> str:
    if done.finish_reason == "stop" and last is not None and last.choice.token in server.engine.eos:
        return "eos_token"
    return FINISH[done.finish_reason]


async def _generate(request: Request) -> dict:
    server, body, params, prompt, lease = await _start(request)
    tokens: list[Token] = []
    try:
        async for event in server.engine.submit(lease.key, prompt, params):
            if isinstance(event, Token):
                tokens.append(event)
            elif isinstance(event, Failed):
                raise ServeError(500, event.message, type="server_error")
            elif isinstance(event, Done):
                text = (body.inputs + event.text) if body.parameters.return_full_text else event.text
                details = {
                    "finish_reason": _reason(server, event, tokens[-1] if tokens else None),
                    "prompt_tokens": event.prompt_tokens,
                    "generated_tokens": event.completion_tokens,
                    "seed": params.seed,
                    "prefill": [],
                    "tokens": [_token(server, t) for t in tokens],
                }
                return {"generated_text": text, "details": details if body.parameters.details else None}
    finally:
        server.release(lease)
    raise ServeError(500, "generation ended without an answer", type="server_error")


async def _stream(server: Any, body: GenerateBody, params: SamplingParams, prompt: list[int], lease: Any):
    last: Token | None = None
    try:
        async for event in server.engine.submit(lease.key, prompt, params):
            if isinstance(event, Failed):
                yield f"data:{json.dumps({'error': event.message, 'error_type': 'generation'})}\n\n"
                return
            if isinstance(event, Token):
                if last is not None:
                    yield f"data:{json.dumps({'token': _token(server, last), 'generated_text': None, 'details': None})}\n\n"
                last = event
                continue
            if isinstance(event, Done) and last is not None:
                details = {
                    "finish_reason": _reason(server, event, last),
                    "prompt_tokens": event.prompt_tokens,
                    "generated_tokens": event.completion_tokens,
                    "seed": params.seed,
                }
                text = (body.inputs + event.text) if body.parameters.return_full_text else event.text
                yield f"data:{json.dumps({'token': _token(server, last), 'generated_text': text, 'details': details})}\n\n"
    finally:
        server.release(lease)


@router.post("/generate")
async def generate(request: Request) -> dict:
    return await _generate(request)


@router.post("/generate_stream")
async def generate_stream(request: Request):
    server, body, params, prompt, lease = await _start(request)
    return StreamingResponse(_stream(server, body, params, prompt, lease), media_type="text/event-stream")


@router.post("/")
async def compat_generate(request: Request):
    """LoRAX's own route: a list of one answer, or the stream when ``stream`` is true."""
    try:
        raw = json.loads(await request.body())
    except ValueError:  # not JSON: _start refuses the body in one line below
        raw = None
    raw_stream = isinstance(raw, dict) and bool(raw.get("stream"))
    if raw_stream:
        return await generate_stream(request)
    return [await _generate(request)]
