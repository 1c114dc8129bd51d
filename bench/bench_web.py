"""Server time of the site's pages with many repos: fill a fresh database with N repos the way
bench_search.py does (plus likes), publish one real adapter with several versions, then request
the search page and repo pages through the ASGI app. The time is measured inside the server
(from the request reaching the app to the last body byte), so no client or socket is counted.

    python -m bench.bench_web --repos 100000 [--database-url postgresql://postgres@127.0.0.1/test]

Goal: p99 < 100 ms for the search page and for a repo page, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.figures import emit

ROOT = Path(__file__).resolve().parent.parent

from sqlalchemy import text

from bench.bench_search import _p99, fill
from hub_server.app import build_hub, create_app
from hub_server.services.auth import authenticate, create_token
from hub_server.services.blobs import put_blob
from hub_server.services.publish import publish
from hub_server.services.repos import create_repo
from hub_server.services.versions import yank
from hub_server.settings import Settings
from tests.support.hub_process import PostgresDatabase

CARD = """---
license: mit
tags: [sentiment, tiny]
base_model: org/base-7
adapter_hub:
  method: lora
  task: seq-cls
  method_options: {r: 8, lora_alpha: 16}
  base: {id: org/base-7, revision: "1.0", fingerprint: "sha256:%s"}
  metrics: {exact_match: 0.92}
---
# Sentiment LoRA

| split | exact match |
|---|---|
| held-out | 0.92 |

Trained for the bench, version %s.
""" % ("%064x" % 7, "%s")  # noqa: UP031 - a %s template filled per version (the YAML braces rule out str.format)

SEARCH_PAGES = [
    "/search",
    "/search?q=lora",
    "/search?method=lora&sort=likes",
    "/search?q=adapter-9999",
    "/search?tag=pirate&sort=updated",
    "/search?base=org/base-7&task=seq-cls",
    "/search?q=pirate+lora",
    "/search?sort=name&namespace=user42",
]


def repo_pages(count: int) -> list[str]:
    """The published adapter (default, newest and oldest version) and two filled repos without versions."""
    last = count - 1
    return [
        "/bench/sentiment-lora",
        "/bench/sentiment-lora/v/1.2.0",
        "/bench/sentiment-lora/v/1.0.0",
        "/user42/adapter-42",
        f"/user{last % 5000}/adapter-{last}",
    ]


def _safetensors(seed: int) -> bytes:
    body = bytes((seed + i) % 256 for i in range(64))
    header = json.dumps({"w": {"dtype": "F32", "shape": [4, 4], "data_offsets": [0, 64]}}).encode()
    header += b" " * (-len(header) % 8)
    return len(header).to_bytes(8, "little") + header + body


def publish_real(hub) -> None:
    """bench/sentiment-lora with five versions (one yanked), each with a card and weights."""
    token = create_token(hub.db, "bench", "write")
    who = authenticate(hub.db, token)
    create_repo(hub, who, "bench", "sentiment-lora")
    for i, version in enumerate(("1.0.0", "1.1.0", "1.2.0", "1.3.0", "2.0.0")):
        files = []
        for path, data in (
            ("README.md", (CARD % version).encode()),
            ("adapter_model.safetensors", _safetensors(i)),
            ("adapter_config.json", b'{"peft_type": "LORA", "r": 8}'),
        ):
            digest, size = put_blob(hub, io.BytesIO(data), who.name)  # recorded as this uploader's
            files.append({"path": path, "size": size, "digest": digest})
        publish(hub, who, "bench", "sentiment-lora", version, files, f"release {version}")
    yank(hub, who, "bench", "sentiment-lora", "2.0.0", "broken tokenizer")


class ServerTimer:
    """ASGI wrapper: records how long the app takes from the request to its last body byte."""

    def __init__(self, app) -> None:
        self.app, self.times = app, []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()

        async def timed_send(message):
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.times.append((time.perf_counter() - started) * 1000)

        await self.app(scope, receive, timed_send)


def measure(client, timer: ServerTimer, paths: list[str], rounds: int) -> list[float]:
    for path in paths:  # warm-up: templates compiled, caches filled, as on a running server
        assert client.get(path).status_code == 200, path
    timer.times.clear()
    for _ in range(rounds):
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
    per = len(paths)
    for i, path in enumerate(paths):
        each = sorted(timer.times[i::per])
        print(f"  {path:<44} p50 {statistics.median(each):6.2f} ms  p99 {_p99(each):6.2f} ms", file=sys.stderr)
    return sorted(timer.times)


def main() -> int:
    from fastapi.testclient import TestClient

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (a fresh database is created)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        targets: list[tuple[str, PostgresDatabase | None]] = [("sqlite", None)]
        if args.database_url:
            targets.append(("postgresql", PostgresDatabase(args.database_url)))
        for label, pg in targets:
            url = pg.url if pg else None
            settings = Settings(data=Path(tmp) / label, database_url=url, access_log="off")
            hub = build_hub(settings)
            t0 = time.perf_counter()
            fill(hub, args.repos)
            with hub.db.write() as s:
                s.execute(text("UPDATE repos SET likes = (id * 7919) % 1000"))
                if url:  # the fill wrote ids itself: move the sequence past them for publish_real's repo
                    s.execute(text("SELECT setval(pg_get_serial_sequence('repos', 'id'), (SELECT max(id) FROM repos))"))
            publish_real(hub)
            with hub.db.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()
            filled = time.perf_counter() - t0
            hub.db.dispose()
            timer = ServerTimer(create_app(settings))
            with TestClient(timer) as client:
                print(f"{label}: search pages", file=sys.stderr)
                search_times = measure(client, timer, SEARCH_PAGES, args.rounds)
                print(f"{label}: repo pages", file=sys.stderr)
                repo_times = measure(client, timer, repo_pages(args.repos), args.rounds)
                print(f"{label}: home page (no goal)", file=sys.stderr)
                measure(client, timer, ["/"], args.rounds)
            rows.append((label, search_times, repo_times, filled))
            if pg:
                pg.drop()
    print(f"{'pages, ' + str(args.repos) + ' repos':<34} {'p50 (ms)':>9} {'p99 (ms)':>9} {'goal':>10}")
    for label, search_times, repo_times, filled in rows:
        for page, times in (("search page", search_times), ("repo page", repo_times)):
            p50, p99 = statistics.median(times), _p99(times)
            print(f"{label + ' ' + page:<34} {p50:>9.2f} {p99:>9.2f} {'< 100 ms':>10}   (fill {filled:.0f}s)")
            for stat, value, goal in (("p50", p50, None), ("p99", p99, "< 100 ms")):
                emit(
                    {
                        "name": f"web {page} {stat} {label} {args.repos} repos",
                        "ours": round(value, 2),
                        "reference": None,
                        "unit": "ms",
                        "ratio": None,
                        "goal": goal,
                        "ok": None if goal is None else value < 100,
                    },
                    interleaved=None,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
