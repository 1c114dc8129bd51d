"""``hub serve-model`` (a model server for a hub's adapters) and the client side of ``hub run --endpoint``.

The server package (``hub_serving``, with torch) is imported only inside the command, so ``hub --help`` and
the registry commands stay light; ``hub run --endpoint`` needs no torch at all, only HTTP.
"""

from __future__ import annotations

import click

from ..errors import HubError


@click.command("serve-model")
@click.option("--base", required=True, help="The frozen base: a model directory or hub://NS/NAME[@V].")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="0 picks a free port (printed on start).",
)
@click.option(
    "--max-adapters",
    default=8,
    show_default=True,
    type=click.IntRange(1, 4096),
    help="Adapters held loaded at once (least recently used evicted first).",
)
@click.option(
    "--max-batch-size",
    default=16,
    show_default=True,
    type=click.IntRange(1, 1024),
    help="Sequences decoded together in one step.",
)
@click.option("--require-signed", is_flag=True, help="Refuse adapters whose version is not signed.")
@click.option("--require-token", is_flag=True, help="Callers must send a bearer token the hub accepts.")
@click.option("--endpoint", default=None, help="Hub URL to pull adapters from (default: HUB_ENDPOINT).")
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
def serve_model(
    base: str,
    host: str,
    port: int,
    max_adapters: int,
    max_batch_size: int,
    require_signed: bool,
    require_token: bool,
    endpoint: str | None,
    log_level: str,
) -> None:
    """Serve BASE with any of the hub's adapters per request (OpenAI /v1 and LoRAX /generate APIs)."""
    import logging
    import socket

    import uvicorn

    from hub_serving import ServeSettings, create_app

    logging.getLogger().setLevel(log_level.upper())  # printed by the CLI's one handler (cli/logs.py)
    settings = ServeSettings(
        base=base,
        max_adapters=max_adapters,
        max_batch_size=max_batch_size,
        require_signed=require_signed,
        require_token=require_token,
        endpoint=endpoint,
    )
    app = create_app(settings)  # loads the base: a bad --base fails here, before the port opens
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    click.echo(f"serving {app.state.server.base_id} on http://{shown}:{bound}", err=True)
    config = uvicorn.Config(app, log_level=log_level, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def run_on_endpoint(
    endpoint: str, adapters: tuple[str, ...], prompt: str, max_new_tokens: int, chat: bool, token: str | None
) -> str:
    """Greedy text from a running ``hub serve-model`` (the base when no adapter is named)."""
    import httpx

    if len(adapters) > 1:
        raise click.UsageError("--endpoint serves one adapter per request; name at most one")
    url = endpoint.rstrip("/")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with httpx.Client(timeout=600.0, headers=headers) as http:
            model = adapters[0] if adapters else http.get(f"{url}/v1/models").json()["data"][0]["id"]
            body = {"model": model, "max_tokens": max_new_tokens, "temperature": 0}
            r = None
            if chat:  # as `hub run`: through the chat template when the base has one
                r = http.post(
                    f"{url}/v1/chat/completions", json={**body, "messages": [{"role": "user", "content": prompt}]}
                )
                if r.status_code == 400 and "no chat template" in r.text:
                    r, chat = None, False
            if r is None:
                r = http.post(f"{url}/v1/completions", json={**body, "prompt": prompt})
    except httpx.HTTPError as exc:
        raise HubError(f"{url}: {type(exc).__name__}: {exc}") from None
    except (ValueError, KeyError, IndexError):
        raise HubError(f"{url}: not a model server (no /v1/models list)") from None
    try:
        data = r.json()
    except ValueError:
        raise HubError(f"{url}: HTTP {r.status_code} with a body that is not JSON") from None
    if r.status_code != 200:
        message = (data.get("error") or {}).get("message") if isinstance(data, dict) else None
        raise HubError(f"{url}: HTTP {r.status_code}: {message or data}")
    choice = data["choices"][0]
    return choice["message"]["content"] if chat else choice["text"]
