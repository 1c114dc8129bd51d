"""Hostile inputs a parser must survive, against a real hub (uvicorn subprocess): a YAML alias
bomb in the card, a flood of newlines in a commit message, a deeply nested or oversized
safetensors header, control characters and file/folder clashes in paths, non-Latin-1 file
names. Each refusal: its status, a one-line message, and nothing stored."""

from __future__ import annotations

import base64
import json
import struct
import time
from urllib.parse import quote

import httpx
import pytest

from hub_rules import MAX_MESSAGE_CHARS as MESSAGE_LIMIT
from hub_rules import VersionInvalid, check_version
from hub_server.services.hf_numbering import version_from_message
from tests.support.hub_http import auth, create_repo, digest_of, publish, safetensors_bytes, upload
from tests.support.hub_process import HubProcess

HEADER_LIMIT = 64 * 1024
ALIAS_BOMB = "\n".join(
    ["---", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
    + ["---", "# bomb", ""]
)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    server = HubProcess(tmp_path_factory.mktemp("hub-data"), env={"HUB_MAX_HEADER_BYTES": str(HEADER_LIMIT)}).start()
    yield server
    server.close()


@pytest.fixture(scope="module")
def alice(hub):
    return hub.token("alice")


@pytest.fixture
def http(hub):
    with httpx.Client(base_url=hub.url, timeout=60) as client:
        yield client


def _refused(response: httpx.Response, status: int, words: str) -> str:
    assert response.status_code == status, response.text
    message = response.json()["error"]["message"]
    assert "\n" not in message and words in message, message
    return message


def _nothing_stored(http, token, repo):
    assert http.get(f"/api/v1/repos/{repo}/versions", headers=auth(token)).json()["items"] == []
    assert http.get(f"/api/v1/repos/{repo}/resolve", headers=auth(token)).status_code == 404


def _deep_header(levels: int) -> bytes:
    text = b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "x": ' + b"[" * levels + b"]" * levels + b"}}"
    return struct.pack("<Q", len(text)) + text + b"\0" * 4


def test_alias_bomb_in_card_is_refused(http, alice):
    repo = f"alice/{create_repo(http, alice, 'alice')}"
    r = publish(http, alice, repo, "1.0.0", {"README.md": ALIAS_BOMB.encode(), "w.safetensors": safetensors_bytes()})
    _refused(r, 422, "anchors and aliases are not allowed")
    _nothing_stored(http, alice, repo)


def test_alias_bomb_in_validate_yaml_is_an_error_not_an_expansion(http, alice):
    r = http.post("/api/validate-yaml", json={"content": ALIAS_BOMB, "repoType": "model"}, headers=auth(alice))
    assert r.status_code == 400 and len(r.content) < 2000
    (error,) = r.json()["errors"]
    assert "anchor" in error["message"] and "\n" not in error["message"]


def test_alias_bomb_in_hf_commit_is_refused(http, alice):
    name = create_repo(http, alice, "alice")
    body = b"\n".join(
        json.dumps(line).encode()
        for line in [
            {"key": "header", "value": {"summary": "bomb"}},
            {
                "key": "file",
                "value": {
                    "path": "README.md",
                    "encoding": "base64",
                    "content": base64.b64encode(ALIAS_BOMB.encode()).decode(),
                },
            },
        ]
    )
    r = http.post(f"/api/models/alice/{name}/commit/main", content=body, headers=auth(alice))
    assert r.status_code == 400 and "anchors and aliases" in r.json()["error"] and "\n" not in r.json()["error"]
    _nothing_stored(http, alice, f"alice/{name}")


@pytest.mark.parametrize("levels", [50, 100_000])
def test_deep_safetensors_header_is_a_422(http, alice, levels):
    repo = f"alice/{create_repo(http, alice, 'alice')}"
    r = publish(http, alice, repo, "1.0.0", {"w.safetensors": _deep_header(levels)})
    _refused(r, 422, "w.safetensors")
    _nothing_stored(http, alice, repo)


def test_header_over_the_setting_is_a_422(http, alice):
    text = json.dumps({"__metadata__": {"pad": "x" * HEADER_LIMIT}}).encode()
    data = struct.pack("<Q", len(text)) + text
    repo = f"alice/{create_repo(http, alice, 'alice')}"
    _refused(
        publish(http, alice, repo, "1.0.0", {"w.safetensors": data}), 422, f"exceeds the {HEADER_LIMIT}-byte limit"
    )
    _nothing_stored(http, alice, repo)


@pytest.mark.parametrize(
    "files, words",
    [
        ({"a\nb.json": b"{}"}, "control characters"),
        ({"a\rb.json": b"{}"}, "control characters"),
        ({"cfg": b"1", "cfg/x.json": b"{}"}, "also the folder"),
    ],
)
def test_path_rule_refusals(http, alice, files, words):
    repo = f"alice/{create_repo(http, alice, 'alice')}"
    _refused(publish(http, alice, repo, "1.0.0", files), 422, words)
    _nothing_stored(http, alice, repo)


def test_version_must_be_semver(http, alice):
    repo = f"alice/{create_repo(http, alice, 'alice')}"
    message = _refused(publish(http, alice, repo, "1.0", {"a.json": b"{}"}), 400, "invalid version '1.0'")
    with pytest.raises(VersionInvalid) as shared:  # the client refuses with this very text
        check_version("1.0")
    assert message == str(shared.value)
    _refused(publish(http, alice, repo, "1.0.0\n", {"a.json": b"{}"}), 400, "invalid version")
    _nothing_stored(http, alice, repo)


def _commit_body(summary: str, description: str, content: bytes) -> bytes:
    return b"\n".join(
        json.dumps(line).encode()
        for line in [
            {"key": "header", "value": {"summary": summary, "description": description}},
            {
                "key": "file",
                "value": {"path": "a.json", "encoding": "base64", "content": base64.b64encode(content).decode()},
            },
        ]
    )


def test_newline_flood_in_commit_message_is_answered(http, alice):
    """A flood under the message limit is read in linear time, and the version after it is found."""
    name = create_repo(http, alice, "alice")
    body = _commit_body("\n" * 40_000 + "version: 3.1.4", " \n" * 10_000, b"{}")
    r = http.post(f"/api/models/alice/{name}/commit/main", content=body, headers=auth(alice))
    assert r.status_code == 200, r.text
    assert r.json()["version"] == "3.1.4"
    message = http.get(f"/api/v1/repos/alice/{name}/resolve", params={"ref": "3.1.4"}).json()["message"]
    assert message.endswith("version: 3.1.4\n\n" + " \n" * 10_000)  # kept whole, never cut short


def test_a_message_over_the_limit_is_one_413_and_stores_nothing(http, alice):
    name = create_repo(http, alice, "alice")
    content = b'{"flooded": true}'
    body = _commit_body("\n" * (1 << 20) + "version: 3.1.4", "", content)
    r = http.post(f"/api/models/alice/{name}/commit/main", content=body, headers=auth(alice))
    assert r.status_code == 413 and "\n" not in r.json()["error"], r.text
    # refused while it arrives: the header line is longer than any message under the limit can be
    assert r.json()["error"] == f"the commit message is longer than the limit of {MESSAGE_LIMIT} characters"
    _nothing_stored(http, alice, f"alice/{name}")
    assert http.head(f"/api/v1/blobs/{digest_of(content)}", headers=auth(alice)).status_code == 404
    repo = f"alice/{name}"
    upload(http, alice, content)
    r = http.post(
        f"/api/v1/repos/{repo}/versions",
        headers=auth(alice),
        json={
            "version": "1.0.0",
            "message": "x" * (MESSAGE_LIMIT + 1),
            "files": [{"path": "a.json", "size": len(content), "digest": digest_of(content)}],
        },
    )
    _refused(r, 413, f"the commit message is {MESSAGE_LIMIT + 1} characters")
    _nothing_stored(http, alice, repo)


def _cpu(text: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        version_from_message(text, "")
        best = min(best, time.process_time() - start)
    return best


@pytest.mark.parametrize(
    "unit", ["\n", " \n", "version\n", "version:" + " " * 30 + "\n", " " * 64, "version ", "Version: v"]
)
def test_version_in_message_scales_linearly(unit):
    """16x the input may cost at most ~32x the time (quadratic would be 256x): 64 KiB vs 1 MiB."""
    small, large = unit * (65536 // len(unit)), unit * (1048576 // len(unit))
    assert version_from_message(large, "") is None
    assert version_from_message(large + "\n  VERSION = v2.0.0\r", "") == "2.0.0"  # found after the flood
    ratio = _cpu(large) / max(_cpu(small), 1e-4)
    assert ratio < 40, ratio


def test_non_latin1_file_names_download_over_hf_and_native(http, alice):
    name = create_repo(http, alice, "alice")
    path = "模型/données €.json"
    r = publish(http, alice, f"alice/{name}", "1.0.0", {path: b'{"ok": 1}'})
    assert r.status_code == 201, r.text
    for method in ("HEAD", "GET"):
        got = http.request(method, f"/alice/{name}/resolve/main/{quote(path)}", headers=auth(alice))
        assert got.status_code == 200, got.text
        disposition = got.headers["content-disposition"]
        assert disposition.isascii() and "filename*=UTF-8''donn%C3%A9es%20%E2%82%AC.json" in disposition
    assert got.content == b'{"ok": 1}'
    native = http.get(f"/api/v1/repos/alice/{name}/files/1.0.0/{quote(path)}", headers=auth(alice))
    assert native.status_code == 200 and native.content == b'{"ok": 1}'


def test_range_start_after_end_is_ignored_everywhere(http, alice):
    name = create_repo(http, alice, "alice")
    data = bytes(range(100))
    assert publish(http, alice, f"alice/{name}", "1.0.0", {"a.txt": data}).status_code == 201
    urls = [
        f"/alice/{name}/resolve/main/a.txt",
        f"/api/v1/repos/alice/{name}/files/1.0.0/a.txt",
        f"/api/v1/repos/alice/{name}/blobs/{digest_of(data)}",
    ]
    for url in urls:
        assert http.get(url, headers={**auth(alice), "Range": "bytes=5-2"}).status_code == 200
        part = http.get(url, headers={**auth(alice), "Range": "bytes=5-9"})
        assert part.status_code == 206 and part.content == data[5:10]
        assert http.get(url, headers={**auth(alice), "Range": "bytes=100-"}).status_code == 416
        huge = http.get(url, headers={**auth(alice), "Range": "bytes=" + "9" * 5000 + "-"})
        assert huge.status_code == 416
