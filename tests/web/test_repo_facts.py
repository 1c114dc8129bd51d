"""What the repo page says against a real hub (SQLite and PostgreSQL), matching what the CLI knows:
each version's commit id and signature (signer, key, verified at publish; unsigned said plainly), and a
base model's own page showing its fingerprint and the adapters pinned to it instead of "not pinned"."""

from __future__ import annotations

import hashlib
import html
import json
import re
import uuid
from pathlib import Path

import httpx
import numpy as np
import pytest
from click.testing import CliRunner
from safetensors.numpy import save_file

from hub_client.cli.main import main
from tests.support.hub_http import create_repo, publish
from tests.web.web_fixtures import adapter_dir, card


def _name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def hub_cli(hub, token: str, home: Path, *args: str) -> str:
    env = {
        "HUB_ENDPOINT": hub.url,
        "HUB_TOKEN": token,
        "HUB_NO_PROGRESS": "1",
        "HUB_CACHE": str(home / "cache"),
        "HUB_CONFIG_DIR": str(home / "config"),
        "HUB_REQUIRE_SIGNED": "",
    }
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def base_dir(root: Path) -> Path:
    """A base model directory (config + real safetensors weights): enough to fingerprint and host."""
    root.mkdir(parents=True)
    rng = np.random.default_rng(7)
    save_file(
        {"model.embed_tokens.weight": rng.standard_normal((16, 8)).astype(np.float32)}, str(root / "model.safetensors")
    )
    (root / "config.json").write_text(json.dumps({"model_type": "llama", "hidden_size": 8}))
    return root


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_versions_show_commit_ids_and_who_signed(web_hub, tmp_path):
    user = _name("sig")
    token = web_hub.token(user)
    repo = f"{user}/signed"
    source = adapter_dir(tmp_path / "a", card("# Signed\n"))
    hub_cli(web_hub, token, tmp_path, "push", str(source), repo, "--version", "1.0.0")
    key = json.loads(hub_cli(web_hub, token, tmp_path, "keys", "generate", "--json"))["fingerprint"]
    hub_cli(web_hub, token, tmp_path, "keys", "add", "--name", "laptop")
    (source / "README.md").write_text(card("# Signed, second\n"))
    hub_cli(web_hub, token, tmp_path, "push", str(source), repo, "--version", "1.1.0", "--sign")
    commits = {
        v["version"]: v["commit"] for v in httpx.get(f"{web_hub.url}/api/v1/repos/{repo}/versions").json()["items"]
    }

    page = httpx.get(f"{web_hub.url}/{repo}").text
    rows = dict(re.findall(r'<tr class="[^"]*" data-version="([^"]+)">(.*?)</tr>', page, re.DOTALL))
    assert set(rows) == {"1.0.0", "1.1.0"}
    signed, unsigned = _text(rows["1.1.0"]), _text(rows["1.0.0"])
    assert f"signed by {user}" in signed and "verified at publish" in signed
    assert f'title="{key}"' in rows["1.1.0"]
    assert "unsigned" in unsigned and "signed by" not in unsigned
    for version, commit in commits.items():
        assert f'title="{commit}"' in rows[version] and commit[:12] in _text(rows[version])
    # the page of a version names its full commit, as `hub info` does
    assert commits["1.0.0"] in _text(httpx.get(f"{web_hub.url}/{repo}/v/1.0.0").text)


def test_base_page_shows_its_fingerprint_and_pinned_adapters(web_hub, tmp_path):
    owner = _name("acme")
    token = web_hub.token(owner)
    hub_cli(
        web_hub,
        token,
        tmp_path,
        "push",
        str(base_dir(tmp_path / "base")),
        f"{owner}/base",
        "--version",
        "1.0.0",
        "--kind",
        "base",
    )
    fingerprint = httpx.get(f"{web_hub.url}/api/v1/repos/{owner}/base").json()["metadata"]["fingerprint"]
    assert fingerprint.startswith("sha256:")
    before = _text(httpx.get(f"{web_hub.url}/{owner}/base").text)
    assert "No adapters pinned to it yet." in before
    hub_cli(
        web_hub,
        token,
        tmp_path,
        "push",
        str(adapter_dir(tmp_path / "a", "# pinned\n")),
        f"{owner}/tone",
        "--version",
        "1.0.0",
        "--base",
        f"hub://{owner}/base@1.0.0",
    )

    page = httpx.get(f"{web_hub.url}/{owner}/base").text
    text = _text(page)
    assert "not pinned" not in text
    assert fingerprint.split(":", 1)[1][:16] in text and f'title="{fingerprint}"' in page
    pinned = re.search(r'<ul class="plain pinned-adapters">(.*?)</ul>', page, re.DOTALL).group(1)
    assert f'href="/{owner}/tone"' in pinned
    # and the adapter's page links its base and offers the pin, with no --base to fill in
    adapter_page = httpx.get(f"{web_hub.url}/{owner}/tone").text
    assert f'href="/{owner}/base"' in adapter_page
    run = html.unescape(re.search(r'<code id="code-run">(.*?)</code>', adapter_page, re.DOTALL).group(1))
    assert run == f"hub run {owner}/tone@1.0.0 --prompt Hello --max-new-tokens 8"


def _snippet_code(page: str) -> dict[str, str]:
    return {
        m.group(1): html.unescape(m.group(2))
        for m in re.finditer(r'<code id="code-([a-z]+)">(.*?)</code>', page, re.DOTALL)
    }


def test_capabilities_are_indexed_at_publish_not_read_on_each_view(web_hub):
    """The page decides what to offer from the version row: with the config's blob gone from the store after
    publish, the LoRA still offers `hub merge` and PEFT's loader."""
    from hub_server.storage import open_store

    owner = _name("indexed")
    token = web_hub.token(owner)
    config = json.dumps({"peft_type": "LORA", "r": 4, "owner": owner}).encode()  # its own blob
    with httpx.Client(base_url=web_hub.url, timeout=60) as client:
        create_repo(client, token, owner, "a")
        files = {"README.md": card("# caps\n", method="lora").encode(), "adapter_config.json": config}
        assert publish(client, token, f"{owner}/a", "1.0.0", files).status_code == 201
        settings = web_hub.settings
        open_store(settings.storage_url, settings.data).delete("sha256:" + hashlib.sha256(config).hexdigest())
        page = client.get(f"/{owner}/a")
    assert page.status_code == 200
    assert {"merge", "peft"} <= set(_snippet_code(page.text))


@pytest.mark.parametrize(
    ("peft_type", "task", "offered", "model_class"),
    [
        ("BOTTLENECK", "causal-lm", {"pull", "run", "python", "serve"}, None),
        ("PREFIX_TUNING", "seq-cls", {"pull", "run", "python", "peft"}, "AutoModelForSequenceClassification"),
        ("LORA", "seq-cls", {"pull", "run", "merge", "python", "peft"}, "AutoModelForSequenceClassification"),
        ("IA3", "causal-lm", {"pull", "run", "merge", "python", "peft", "serve"}, "AutoModelForCausalLM"),
    ],
)
def test_snippets_follow_what_the_adapter_can_do(web_hub, peft_type, task, offered, model_class):
    owner = _name("caps")
    token = web_hub.token(owner)
    with httpx.Client(base_url=web_hub.url, timeout=60) as client:
        create_repo(client, token, owner, "a")
        files = {
            "README.md": card("# caps\n", method=peft_type.lower(), task=task).encode(),
            "adapter_config.json": json.dumps({"peft_type": peft_type}).encode(),
        }
        assert publish(client, token, f"{owner}/a", "1.0.0", files).status_code == 201
        code = _snippet_code(client.get(f"/{owner}/a").text)
    assert set(code) == offered
    # the card's base (tiny/base) is not on this hub: --base names it, PEFT loads the reader's copy
    assert code["run"].startswith(f"hub run --base tiny/base {owner}/a@1.0.0 --prompt Hello")
    call = "stack.classify('Hello')[0][0]" if task == "seq-cls" else "stack.generate('Hello', max_new_tokens=8)"
    assert code["python"].splitlines()[-1] == f"print({call})"
    if model_class:
        assert f"base = {model_class}.from_pretrained('BASE_DIR')" in code["peft"]
