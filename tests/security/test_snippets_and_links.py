"""The repo page's copyable 'How to use' snippets and lineage links, built from a stranger's card:
whatever ``base_model`` says, each copied snippet parses (``shlex.split`` / ``ast.parse``) into
exactly the intended tokens, calls and literals, and a lineage id is linked only when it is a repo id."""

from __future__ import annotations

import ast
import html
import json
import re
import shlex

import httpx
import pytest

from tests.security.accountability_support import create_repo, publish

CRAFTED = [
    'x"); import os; os.system("id"); ("',
    "a\nPY\nimport os; os.system('id')\n",
    "$(touch /tmp/pwned)",
    "`id`",
    "'''\"\"\"",
    "ns/na'me",
    "tiny/base; rm -rf ~",
]


def _card(base: str, lineage: list[dict] | None = None) -> bytes:
    front = {"base_model": base, "adapter_hub": {"kind": "adapter", "lineage": lineage or []}}
    return ("---\n" + json.dumps(front) + "\n---\n# card\n").encode()


def _snippets(page: str) -> dict[str, str]:
    return {
        m.group(1): html.unescape(m.group(2))
        for m in re.finditer(r'<code id="code-([a-z]+)">(.*?)</code>', page, re.DOTALL)
    }


def _calls_and_constants(tree: ast.Module) -> tuple[list[str], list]:
    """Every function called in ``tree`` and every literal it holds, sorted: an injected statement or
    call shows up in one or the other."""
    calls = sorted(
        n.func.attr if isinstance(n.func, ast.Attribute) else n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
    )
    constants = sorted(str(n.value) for n in ast.walk(tree) if isinstance(n, ast.Constant))
    return calls, constants


@pytest.mark.parametrize("base", [*CRAFTED, "tiny/base"])
def test_copied_snippets_parse_into_exactly_the_intended_code(hub_server, base):
    alice = hub_server.token("alice", "write")
    expected_base = base if base == "tiny/base" else "BASE_DIR"
    with httpx.Client(base_url=hub_server.url, timeout=30) as client:
        create_repo(client, alice, "alice", "snip")
        files = {"README.md": _card(base), "adapter_config.json": b'{"peft_type": "LORA"}'}
        assert publish(client, alice, "alice/snip", "1.0.0", files).status_code == 201
        page = client.get("/alice/snip")
        assert page.status_code == 200
        code = _snippets(page.text)
    assert set(code) == {"pull", "run", "merge", "python", "peft", "serve"}
    assert shlex.split(code["pull"]) == ["hub", "pull", "alice/snip@1.0.0"]
    assert shlex.split(code["run"]) == [
        "hub",
        "run",
        "--base",
        expected_base,
        "alice/snip@1.0.0",
        "--prompt",
        "Hello",
        "--max-new-tokens",
        "8",
    ]
    assert shlex.split(code["merge"]) == [
        "hub",
        "merge",
        "--base",
        expected_base,
        "alice/snip@1.0.0",
        "--out",
        "merged",
    ]
    python = ast.parse(code["python"])
    assert [type(n).__name__ for n in python.body] == ["ImportFrom"] * 3 + ["Assign"] * 3 + ["Expr"]
    assert _calls_and_constants(python) == (
        ["HubClient", "generate", "hub_resolver", "load_stack", "print", "pull"],
        sorted(["Hello", "8", hub_server.url, "alice/snip", "1.0.0", expected_base]),
    )
    lines = code["peft"].split("\n")
    assert shlex.split(lines[0]) == [f"HF_ENDPOINT={hub_server.url}"] or shlex.split(lines[0]) == [
        "export",
        f"HF_ENDPOINT={hub_server.url}",
    ]
    assert lines[1] == "python - <<'PY'" and lines[-1] == "PY" and "PY" not in lines[2:-1]  # the heredoc ends once
    tree = ast.parse("\n".join(lines[2:-1]))
    assert [type(n).__name__ for n in tree.body] == ["ImportFrom", "ImportFrom", "Assign", "Assign", "Expr"]
    # HF_ENDPOINT points at this hub, so a base that is not on it is the reader's own copy
    assert _calls_and_constants(tree) == (
        ["from_pretrained", "from_pretrained", "print"],
        sorted(["BASE_DIR", "alice/snip", "1.0.0"]),
    )
    serve = code["serve"].split("\n")
    assert shlex.split(serve[0]) == ["export", f"HUB_ENDPOINT={hub_server.url}"]
    assert shlex.split(serve[1]) == ["hub", "serve-model", "--base", expected_base, "--port", "8080", "&"]
    assert serve[3] == "python - <<'PY'" and serve[-1] == "PY" and "PY" not in serve[4:-1]
    calls = [c for c in ast.walk(ast.parse("\n".join(serve[4:-1]))) if isinstance(c, ast.Call)]
    named = {
        (c.func.attr if isinstance(c.func, ast.Attribute) else c.func.id): {
            k.arg: k.value.value for k in c.keywords if isinstance(k.value, ast.Constant)
        }
        for c in calls
    }
    assert named["OpenAI"] == {"base_url": "http://127.0.0.1:8080/v1", "api_key": "unused"}
    assert named["create"] == {"model": "alice/snip@1.0.0", "prompt": "Hello", "max_tokens": 32, "temperature": 0}


def test_lineage_ids_are_linked_only_when_they_are_repo_ids(hub_server):
    alice = hub_server.token("alice", "write")
    lineage = [{"id": "/evil.example"}, {"id": "//evil.example/x"}, {"id": "a/../b"}, {"id": "alice/parent"}]
    with httpx.Client(base_url=hub_server.url, timeout=30) as client:
        create_repo(client, alice, "alice", "child")
        assert (
            publish(client, alice, "alice/child", "1.0.0", {"README.md": _card("tiny/base", lineage)}).status_code
            == 201
        )
        page = client.get("/alice/child").text
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert "/alice/parent" in hrefs
    assert not [h for h in hrefs if "evil" in h or ".." in h], hrefs
    assert "/evil.example" in page  # still shown, as text
