"""OpenAI's API over the engine: ``GET /v1/models``, ``POST /v1/completions``, ``POST /v1/chat/completions``.

Why OpenAI's shapes: the unmodified ``openai`` package (and everything built on it) can talk to a hub's
adapters by naming one as ``model`` (``NS/NAME@VERSION-OR-RANGE``, or the base's id for the bare base).
Parameters are checked before any adapter is pulled; a refusal is OpenAI's ``{"error": {...}}`` in one line.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .engine import Done, Failed, Token
from .errors import ServeError, bad_request
from .sampling import SamplingParams

router = APIRouter()


class _Common(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=300)
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float = Field(default=1.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    n: int = Field(default=1, ge=1, le=16)
    stream: bool = False
    stop: str | list[str] | None = None
    seed: int | None = None
    stream_options: dict | None = None

    def stops(self) -> tuple[str, ...]:
        stops = [self.stop] if isinstance(self.stop, str) else list(self.stop or [])
        if len(stops) > 4:
            raise bad_request("stop: at most 4 sequences", param="stop")
        return tuple(stops)


class CompletionBody(_Common):
    prompt: str | list[str]
    logprobs: int | None = Field(default=None, ge=0, le=20)
    echo: bool = False


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[dict] | None = None

    def text(self) -> str:
        if self.content is None or isinstance(self.content, str):
            return self.content or ""
        parts = []
        for part in self.content:
            if part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise bad_request("messages: only text content parts are supported", param="messages")
            parts.append(part["text"])
        return "".join(parts)


class ChatBody(_Common):
    messages: list[Message] = Field(min_length=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    logprobs: bool = False
    top_logprobs: int | None = Field(default=None, ge=0, le=20)


def validation_message(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "body"
    return f"{where}: {err.get('msg', 'invalid')}"


async def read_body(request: Request, kind: type[BaseModel]) -> Any:
    """``kind`` validated from a JSON object body; anything else is one 400 line (shared by both protocol views)."""
    try:
        raw = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        raise bad_request("the body is not valid JSON") from None
    if not isinstance(raw, dict):
        raise bad_request("the body must be a JSON object")
    try:
        return kind.model_validate(raw)
    except ValidationError as exc:
        raise bad_request(validation_message(exc)) from None


def _usage(prompt: int, completion: int) -> dict:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


@router.get("/v1/models")
async def list_models(request: Request) -> dict:
    server = request.app.state.server
    server.check_token(request.headers.get("authorization"))
    now = int(time.time())
    ids = [server.base_id, *server.cache.loaded()]
    return {
        "object": "list",
        "data": [
            {
                "id": i,
                "object": "model",
                "created": now,
                "owned_by": "hub",
                **({"root": server.base_id, "parent": server.base_id} if k else {}),
            }
            for k, i in enumerate(ids)
        ],
    }


async def _fan_in(streams: list[AsyncIterator[Any]]) -> AsyncIterator[tuple[int, Any]]:
    """Events of several sequences as they come, tagged with the sequence's index."""
    queue: asyncio.Queue = asyncio.Queue()

    async def pump(i: int, stream: AsyncIterator[Any]) -> None:
        try:
            async for event in stream:
                await queue.put((i, event))
        finally:
            await queue.put((i, None))

    tasks = [asyncio.create_task(pump(i, s)) for i, s in enumerate(streams)]
    open_ = len(tasks)
    try:
        while open_:
            i, event = await queue.get()
            if event is None:
                open_ -= 1
                continue
            yield i, event
    finally:
        for task in tasks:
            task.cancel()
        for stream in streams:
            await stream.aclose()


class _Run:
    """One request's sequences (prompts × n) on one leased adapter."""

    def __init__(self, server: Any, body: _Common, prompts: list[list[int]], params: SamplingParams):
        self.server, self.body, self.params = server, body, params
        self.prompts = [p for p in prompts for _ in range(body.n)]
        self.prompt_tokens = sum(len(p) for p in prompts)  # each prompt counted once, whatever n
        self.id = uuid.uuid4().hex[:24]
        self.created = int(time.time())

    def streams(self, adapter: str | None) -> list[AsyncIterator[Any]]:
        seed = self.params.seed
        out = []
        for i, ids in enumerate(self.prompts):
            params = self.params if seed is None else SamplingParams(**{**self.params.__dict__, "seed": seed + i})
            out.append(self.server.engine.submit(adapter, ids, params))
        return out


def _params(body: _Common, max_tokens: int | None, logprobs: int | None, server: Any) -> SamplingParams:
    limit = server.settings.max_new_tokens_limit
    if max_tokens is not None and max_tokens > limit:
        raise bad_request(f"max_tokens: at most {limit}", param="max_tokens")
    return SamplingParams(
        max_tokens=max_tokens or 16,
        temperature=body.temperature,
        top_p=body.top_p,
        seed=body.seed,
        stop=body.stops(),
        logprobs=logprobs,
    )


@router.post("/v1/completions")
async def completions(request: Request):
    server = request.app.state.server
    server.check_token(request.headers.get("authorization"))
    body: CompletionBody = await read_body(request, CompletionBody)
    if body.echo:
        raise bad_request("echo is not supported", param="echo")
    params = _params(body, body.max_tokens, body.logprobs, server)
    texts = [body.prompt] if isinstance(body.prompt, str) else list(body.prompt)
    if not texts or len(texts) > 16:
        raise bad_request("prompt: between 1 and 16 prompts", param="prompt")
    prompts = [server.encode(t) for t in texts]
    for ids in prompts:
        server.check_length(ids, params.max_tokens)
    return await _answer(server, body, prompts, params, chat=False)


@router.post("/v1/chat/completions")
async def chat_completions(request: Request):
    server = request.app.state.server
    server.check_token(request.headers.get("authorization"))
    body: ChatBody = await read_body(request, ChatBody)
    logprobs = (body.top_logprobs or 0) if body.logprobs else None
    params = _params(body, body.max_completion_tokens or body.max_tokens, logprobs, server)
    prompt = server.encode_chat([{"role": m.role, "content": m.text()} for m in body.messages])
    server.check_length(prompt, params.max_tokens)
    return await _answer(server, body, [prompt], params, chat=True)


async def _answer(server: Any, body: _Common, prompts: list[list[int]], params: SamplingParams, chat: bool):
    run = _Run(server, body, prompts, params)
    lease = await server.lease(body.model)
    name = server.model_name(lease)
    if body.stream:
        include_usage = bool((body.stream_options or {}).get("include_usage"))
        return StreamingResponse(_sse(server, run, lease, name, chat, include_usage), media_type="text/event-stream")
    try:
        results = await asyncio.gather(*[_collect(s) for s in run.streams(lease.key)])
    finally:
        server.release(lease)
    choices, completion = [], 0
    for i, (tokens, done) in enumerate(results):
        completion += done.completion_tokens
        lp = _logprobs(server, tokens, chat) if params.logprobs is not None else None
        if chat:
            choices.append(
                {
                    "index": i,
                    "message": {"role": "assistant", "content": done.text},
                    "logprobs": lp,
                    "finish_reason": done.finish_reason,
                }
            )
        else:
            choices.append({"index": i, "text": done.text, "logprobs": lp, "finish_reason": done.finish_reason})
    return {
        "id": ("chatcmpl-" if chat else "cmpl-") + run.id,
        "object": "chat.completion" if chat else "text_completion",
        "created": run.created,
        "model": name,
        "choices": choices,
        "usage": _usage(run.prompt_tokens, completion),
    }


async def _collect(stream: AsyncIterator[Any]) -> tuple[list[Token], Done]:
    tokens: list[Token] = []
    async for event in stream:
        if isinstance(event, Token):
            tokens.append(event)
        elif isinstance(event, Done):
            return tokens, event
        elif isinstance(event, Failed):
            raise ServeError(500, event.message, type="server_error")
    raise ServeError(500, "generation ended without an answer", type="server_error")


def _logprobs(server: Any, tokens: list[Token], chat: bool) -> dict:
    pieces = [(server.decode(t.choice.token), t.choice) for t in tokens]
    if chat:
        return {
            "content": [
                {
                    "token": text,
                    "logprob": c.logprob,
                    "bytes": list(text.encode()),
                    "top_logprobs": [
                        {"token": server.decode(i), "logprob": lp, "bytes": list(server.decode(i).encode())}
                        for i, lp in c.top
                    ],
                }
                for text, c in pieces
            ]
        }
    offsets, at = [], 0
    for text, _ in pieces:
        offsets.append(at)
        at += len(text)
    return {
        "tokens": [t for t, _ in pieces],
        "token_logprobs": [c.logprob for _, c in pieces],
        "top_logprobs": [{server.decode(i): lp for i, lp in c.top} for _, c in pieces],
        "text_offset": offsets,
    }


async def _sse(server: Any, run: _Run, lease: Any, name: str, chat: bool, include_usage: bool):
    kind = "chat.completion.chunk" if chat else "text_completion"
    ident = ("chatcmpl-" if chat else "cmpl-") + run.id
    params = run.params

    def chunk(choices: list[dict], usage: dict | None = None) -> str:
        data = {"id": ident, "object": kind, "created": run.created, "model": name, "choices": choices}
        if include_usage:
            data["usage"] = usage
        return f"data: {json.dumps(data)}\n\n"

    completion = 0
    try:
        if chat:
            yield chunk(
                [
                    {"index": i, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": None}
                    for i in range(len(run.prompts))
                ]
            )
        async for i, event in _fan_in(run.streams(lease.key)):
            if isinstance(event, Failed):
                error = {"message": event.message, "type": "server_error", "param": None, "code": None}
                yield f"data: {json.dumps({'error': error})}\n\n"
                return
            if isinstance(event, Done):
                completion += event.completion_tokens
                finish = {"index": i, "logprobs": None, "finish_reason": event.finish_reason}
                yield chunk([{**finish, "delta": {}} if chat else {**finish, "text": ""}])
                continue
            if not event.text and params.logprobs is None:
                continue
            lp = _logprobs(server, [event], chat) if params.logprobs is not None else None
            if chat:
                yield chunk([{"index": i, "delta": {"content": event.text}, "logprobs": lp, "finish_reason": None}])
            else:
                yield chunk([{"index": i, "text": event.text, "logprobs": lp, "finish_reason": None}])
        if include_usage:
            yield chunk([], _usage(run.prompt_tokens, completion))
        yield "data: [DONE]\n\n"
    finally:
        server.release(lease)
