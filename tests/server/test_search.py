"""Search over real HTTP: filters from the model card, sort orders, cursor pages."""

from __future__ import annotations

import httpx
import pytest

from tests.support.hub_http import auth, publish, wait_for_downloads

PREFIX = "srch"


def _card(method: str, task: str, base: str, tags: list[str], usage: str) -> bytes:
    return f"""---
license: mit
tags: [{", ".join(tags)}]
base_model: {base}
adapter_hub:
  method: {method}
  task: {task}
  usage: "{usage}"
  base: {{id: {base}, fingerprint: "sha256:{base[-1] * 8}"}}
---
""".encode()


@pytest.fixture(scope="module")
def catalogue(server):
    token = server.token("searcher", "write", orgs=("lab",))
    rows = [
        ("searcher", "alpha", "lora", "causal-lm", "org/base-a", ["chat"], "say hello"),
        ("searcher", "beta", "ia3", "causal-lm", "org/base-a", ["chat", "tiny"], "pirate speak"),
        ("lab", "gamma", "lora", "seq-cls", "org/base-b", ["sentiment"], "positive or negative"),
        ("lab", "delta", "bottleneck", "seq-cls", "org/base-b", ["tiny"], "classify"),
    ]
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for ns, name, method, task, base, tags, usage in rows:
            client.post("/api/v1/repos", json={"namespace": ns, "name": PREFIX + name}, headers=auth(token))
            files = {"README.md": _card(method, task, base, tags, usage), "x.txt": name.encode()}
            assert publish(client, token, f"{ns}/{PREFIX}{name}", "1.0.0", files).status_code == 201
        for _ in range(3):
            client.post(f"/api/v1/repos/lab/{PREFIX}gamma/versions/1.0.0/pulls")
        client.post(f"/api/v1/repos/searcher/{PREFIX}beta/versions/1.0.0/pulls")
        assert wait_for_downloads(client, f"lab/{PREFIX}gamma", 3) == 3
        assert wait_for_downloads(client, f"searcher/{PREFIX}beta", 1) == 1
    return server


def _ids(server, **params):
    r = httpx.get(server.url + "/api/v1/search", params={"q": PREFIX, **params})
    assert r.status_code == 200, r.text
    return [item["name"].removeprefix(PREFIX) for item in r.json()["items"]]


def test_filters(catalogue):
    assert sorted(_ids(catalogue, method="lora")) == ["alpha", "gamma"]
    assert sorted(_ids(catalogue, task="seq-cls")) == ["delta", "gamma"]
    assert sorted(_ids(catalogue, base="org/base-a")) == ["alpha", "beta"]
    assert sorted(_ids(catalogue, fingerprint="sha256:bbbbbbbb")) == ["delta", "gamma"]
    assert sorted(_ids(catalogue, tag="tiny")) == ["beta", "delta"]
    assert sorted(_ids(catalogue, namespace="lab")) == ["delta", "gamma"]
    assert _ids(catalogue, license="mit", method="ia3") == ["beta"]
    assert _ids(catalogue, kind="base") == []
    assert _ids(catalogue, q="pirate") == ["beta"]


def test_sorts_and_cursor_pages(catalogue):
    assert _ids(catalogue, sort="downloads")[:2] == ["gamma", "beta"]
    assert _ids(catalogue, sort="name") == ["delta", "gamma", "alpha", "beta"]  # by "namespace/name"
    assert _ids(catalogue, sort="updated")[0] == "delta"
    for sort in ("downloads", "name", "updated"):
        seen, cursor = [], None
        while True:
            params = {"q": PREFIX, "sort": sort, "limit": 1, **({"cursor": cursor} if cursor else {})}
            page = httpx.get(catalogue.url + "/api/v1/search", params=params).json()
            seen += [i["name"] for i in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert sorted(seen) == sorted(PREFIX + n for n in ("alpha", "beta", "gamma", "delta")) and len(seen) == 4
        assert [n.removeprefix(PREFIX) for n in seen] == _ids(catalogue, sort=sort)


def test_repo_object_carries_indexed_metadata(catalogue):
    item = httpx.get(catalogue.url + "/api/v1/search", params={"q": PREFIX + "gamma"}).json()["items"][0]
    assert item["id"] == f"lab/{PREFIX}gamma" and item["downloads"] == 3
    meta = item["metadata"]
    assert meta["method"] == "lora" and meta["task"] == "seq-cls" and meta["pinned"] is True
    assert meta["base_id"] == "org/base-b" and meta["tags"] == ["sentiment"] and meta["license"] == "mit"


def _text(server, q: str, **params) -> list[str]:
    r = httpx.get(server.url + "/api/v1/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return sorted(item["name"].removeprefix(PREFIX) for item in r.json()["items"])


def test_free_text_matches_words_and_word_prefixes(catalogue):
    assert _text(catalogue, "pirate") == ["beta"]
    assert _text(catalogue, "PIRATE spe") == ["beta"]  # every word must start a term, any case
    assert _text(catalogue, "speak srchbeta") == ["beta"]
    assert _text(catalogue, "pirate hello") == []  # words are ANDed
    assert _text(catalogue, "irate") == []  # a word matches from the start of a term
    assert _text(catalogue, f"lab/{PREFIX}") == ["delta", "gamma"]  # namespace/name tokens
    assert _text(catalogue, f"searcher/{PREFIX}al") == ["alpha"]
    assert _text(catalogue, "positive negative") == ["gamma"]
    assert _text(catalogue, "   ") == []


def test_a_new_version_replaces_the_searchable_text(catalogue):
    token = catalogue.token("searcher", "write", orgs=("lab",))
    with httpx.Client(base_url=catalogue.url, timeout=30) as client:
        client.post("/api/v1/repos", json={"namespace": "searcher", "name": PREFIX + "epsilon"}, headers=auth(token))
        first = {"README.md": _card("lora", "causal-lm", "org/base-a", ["chat"], "tell jokes"), "x.txt": b"e"}
        assert publish(client, token, f"searcher/{PREFIX}epsilon", "1.0.0", first).status_code == 201
        assert _text(catalogue, "jokes") == ["epsilon"]
        second = {"README.md": _card("lora", "causal-lm", "org/base-a", ["shanty"], "sing sea songs"), "x.txt": b"e2"}
        assert publish(client, token, f"searcher/{PREFIX}epsilon", "1.1.0", second).status_code == 201
    assert _text(catalogue, "sea song") == ["epsilon"]
    assert _text(catalogue, "shanty") == ["epsilon"]
    assert _text(catalogue, "jokes") == []
