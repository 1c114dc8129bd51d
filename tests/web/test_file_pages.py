"""The file viewer against a real hub (SQLite and PostgreSQL): ``tree`` lists a version's files with sizes
and links; ``blob`` shows text escaped with line numbers, a safetensors file as its header table, other
files as size + sha256 + a download link that serves those bytes. Refusals: a path that escapes (400, its
one-line message, nothing read), text too large to render (offered as a download, never inlined), a private
repo (404 to a stranger and to nobody-signed-in, shown to its owner), a file or revision that isn't there."""

from __future__ import annotations

import hashlib
import html
import json
import re
import uuid

import httpx
import pytest

from hub_server.web.file_pages import TEXT_LIMIT
from tests.support.hub_http import create_repo, publish, safetensors_bytes
from tests.web.web_fixtures import Browser

CONFIG = json.dumps({"peft_type": "LORA", "r": 4, "note": "<script>window.pwned=1</script>"}, indent=2).encode()
WEIGHTS = safetensors_bytes(
    {
        "base_model.model.layers.0.q_proj.lora_A.weight": ("F32", [4, 2], bytes(32)),
        "base_model.model.layers.0.q_proj.lora_B.weight": ("F16", [2, 4], bytes(16)),
    }
)
BINARY = bytes(range(256)) * 4


def _name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _error(response: httpx.Response) -> str:
    return html.unescape(re.search(r'<p class="error-message">(.*?)</p>', response.text).group(1))


@pytest.fixture(scope="module")
def files_repo(web_hub):
    """A public repo with a text config, weights, a binary file and text too large to render."""
    owner = _name("files")
    token = web_hub.token(owner)
    with httpx.Client(base_url=web_hub.url, timeout=60) as client:
        create_repo(client, token, owner, "viewer")
        files = {
            "adapter_config.json": CONFIG,
            "adapter_model.safetensors": WEIGHTS,
            "tokenizer.model": BINARY,
            "notes/huge.txt": b"x" * (TEXT_LIMIT + 1),
        }
        r = publish(client, token, f"{owner}/viewer", "1.0.0", files)
        assert r.status_code == 201, r.text
        return f"{owner}/viewer", r.json()["commit"]


def test_tree_lists_files_with_sizes_and_links(web_hub, files_repo):
    repo, commit = files_repo
    for rev in ("1.0.0", "main", commit):
        r = httpx.get(f"{web_hub.url}/{repo}/tree/{rev}")
        assert r.status_code == 200, rev
        links = re.findall(r'<a href="(/[^"]+/blob/[^"]+)">([^<]+)</a>', r.text)
        assert sorted(p for _, p in links) == [
            "adapter_config.json",
            "adapter_model.safetensors",
            "notes/huge.txt",
            "tokenizer.model",
        ]
        assert f'<td data-bytes="{len(BINARY)}">' in r.text
        assert commit in r.text
    for href, _ in links:  # every link opens
        assert httpx.get(web_hub.url + href).status_code == 200, href


def test_text_is_escaped_with_line_numbers(web_hub, files_repo):
    repo, _ = files_repo
    r = httpx.get(f"{web_hub.url}/{repo}/blob/1.0.0/adapter_config.json")
    assert r.status_code == 200
    lines = re.findall(
        r'<tr id="L(\d+)"><td class="line-no"><a href="#L\d+">\d+</a></td>'
        r'<td class="line"><code>(.*?)</code></td></tr>',
        r.text,
    )
    assert [int(n) for n, _ in lines] == list(range(1, len(CONFIG.decode().splitlines()) + 1))
    assert [html.unescape(code) for _, code in lines] == CONFIG.decode().splitlines()
    assert "<script>window.pwned" not in r.text and "&lt;script&gt;window.pwned" in r.text


def test_safetensors_shows_its_header_table(web_hub, files_repo):
    repo, _ = files_repo
    r = httpx.get(f"{web_hub.url}/{repo}/blob/1.0.0/adapter_model.safetensors")
    assert r.status_code == 200
    table = re.search(r'<table class="tensors">(.*?)</table>', r.text, re.DOTALL).group(1)
    rows = [
        [_text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)]
        for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.DOTALL)
    ]
    assert rows == [
        ["base_model.model.layers.0.q_proj.lora_A.weight", "F32", "[4, 2]", "8"],
        ["base_model.model.layers.0.q_proj.lora_B.weight", "F16", "[2, 4]", "8"],
    ]


def test_binary_shows_size_sha256_and_a_working_download(web_hub, files_repo):
    repo, _ = files_repo
    r = httpx.get(f"{web_hub.url}/{repo}/blob/1.0.0/tokenizer.model")
    assert r.status_code == 200
    assert hashlib.sha256(BINARY).hexdigest() in _text(r.text)
    assert f"({len(BINARY)} bytes)" in _text(r.text) and "Binary file: not shown" in _text(r.text)
    href = html.unescape(re.search(r'<a class="button" href="([^"]+)" download>', r.text).group(1))
    assert httpx.get(web_hub.url + href).content == BINARY


def test_text_too_large_is_not_rendered(web_hub, files_repo):
    repo, _ = files_repo
    r = httpx.get(f"{web_hub.url}/{repo}/blob/1.0.0/notes/huge.txt")
    assert r.status_code == 200
    assert "This file is too large to show here" in _text(r.text)
    assert "xxxxxxxx" not in r.text and 'class="lines"' not in r.text
    assert len(r.content) < 20_000  # the page carries none of the file


@pytest.mark.parametrize(
    "path",
    [
        "%2e%2e/%2e%2e/etc/passwd",
        "..%2fadapter_config.json",
        "notes/%2e/huge.txt",
        "a%5c..%5cadapter_config.json",
        "notes//huge.txt",
    ],
)
def test_paths_that_escape_are_refused(web_hub, files_repo, path):
    repo, _ = files_repo
    r = httpx.get(f"{web_hub.url}/{repo}/blob/1.0.0/{path}")
    assert r.status_code == 400, r.text[-300:]
    message = _error(r)
    assert message.startswith("invalid file path ") and "\n" not in message
    assert "root:" not in r.text


def test_missing_file_and_revision_are_404_pages(web_hub, files_repo):
    repo, _ = files_repo
    r = httpx.get(f"{web_hub.url}/{repo}/blob/1.0.0/nope.json")
    assert r.status_code == 404 and _error(r) == "file 'nope.json' not in version 1.0.0"
    r = httpx.get(f"{web_hub.url}/{repo}/tree/9.9.9")
    assert r.status_code == 404 and _error(r) == "no version matches '9.9.9'"


def test_private_repo_files_are_404_to_others(web_hub):
    owner = Browser(web_hub.url).sign_up(_name("pia"))
    token = owner.new_token()
    name = owner.get("/settings").text
    user = re.search(r'<a href="/([^"]+)">[^<]+</a>\s*<a href="/settings">', name).group(1)
    with httpx.Client(base_url=web_hub.url, timeout=60) as client:
        create_repo(client, token, user, "secret", private=True)
        assert publish(client, token, f"{user}/secret", "1.0.0", {"adapter_config.json": CONFIG}).status_code == 201
    stranger = Browser(web_hub.url).sign_up(_name("sam"))
    for path in (f"/{user}/secret/tree/1.0.0", f"/{user}/secret/blob/1.0.0/adapter_config.json"):
        assert owner.get(path).status_code == 200, path
        for other in (stranger.http, httpx.Client(base_url=web_hub.url)):
            r = other.get(path)
            assert r.status_code == 404, path
            assert "peft_type" not in r.text
    owner.close()
    stranger.close()
