"""Every 'How to use' snippet runs as copied: one adapter per method (LoRA, IA3, bottleneck, prompt and
prefix tuning) made by the method's own spec on a tiny LLaMA, and a QLoRA adapter trained for one step on
its NF4 form, all pinned to that base, which is itself on the hub; each repo page opened in Chromium, each
snippet copied with its Copy button and read back from the clipboard, then run (shell with ``bash`` in a
fresh directory with ``HUB_ENDPOINT``/``HF_ENDPOINT`` set, Python with this venv's interpreter). Each must
exit 0 and print what it promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from playwright.sync_api import expect

from hub_client.cli.main import main
from tests.support.hub_process import HubProcess
from tests.support.stack_fixtures import make_method_adapter
from tests.support.tiny_bases import copy_task_rows, make_llama_dir, write_jsonl

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
SNIPPET_TIMEOUT = 300
# adapter -> (snippets offered, PEFT's name for it or None when PEFT cannot load it)
METHODS = {
    "lora": ({"pull", "run", "merge", "python", "peft", "serve"}, "LORA"),
    "ia3": ({"pull", "run", "merge", "python", "peft", "serve"}, "IA3"),
    "bottleneck": ({"pull", "run", "python", "serve"}, None),
    "prompt_tuning": ({"pull", "run", "python", "peft", "serve"}, "PROMPT_TUNING"),
    "prefix_tuning": ({"pull", "run", "python", "peft", "serve"}, "PREFIX_TUNING"),
    "qlora": ({"pull", "run", "merge", "python", "peft", "serve"}, "LORA"),  # trained on the NF4 base, pinned to fp32
}


def make_adapters(base: Path, root: Path) -> dict[str, Path]:
    """One adapter per method by the method's own spec, and a QLoRA one trained for a step on the NF4 base."""
    from adapters.registry import get_method
    from adapters.training import train

    made = {
        m: make_method_adapter(get_method(m), base, root / m, seed=i) for i, m in enumerate(METHODS) if m != "qlora"
    }
    data = write_jsonl(root / "copy.jsonl", copy_task_rows(8))
    train(base, "lora", data, root / "qlora", quantize="nf4", max_steps=1, batch_size=4, progress=False)
    return {**made, "qlora": root / "qlora"}


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A hub with ``acme/base`` (a tiny LLaMA) and ``alice/<method>`` pinned to it, one per method."""
    root = tmp_path_factory.mktemp("snippets")
    hub = HubProcess(root / "hub").start()
    env = {"HUB_ENDPOINT": hub.url, "HUB_NO_PROGRESS": "1", "HUB_CACHE": str(root / "push-cache")}
    base = make_llama_dir(root / "base")
    pushes = [(hub.token("acme"), [str(base), "acme/base", "--kind", "base"])]
    alice = hub.token("alice")
    pushes += [
        (alice, [str(path), f"alice/{m}", "--base", "hub://acme/base@1.0.0"])
        for m, path in make_adapters(base, root).items()
    ]
    for token, args in pushes:
        result = CliRunner().invoke(main, ["push", *args, "--version", "1.0.0"], env={**env, "HUB_TOKEN": token})
        assert result.exit_code == 0, result.output
    yield hub
    hub.close()


def copied_snippets(chromium, url: str, path: str) -> dict[str, str]:
    """Each snippet of the page as its Copy button puts it on the clipboard."""
    context = chromium.new_context(base_url=url, permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(path)
    out = {}
    for box in page.locator(".snippet").all():
        snippet_id = box.get_attribute("id").removeprefix("snippet-")
        box.get_by_role("button", name="Copy").click()
        expect(box.get_by_role("button", name="Copied")).to_be_visible()
        out[snippet_id] = page.evaluate("navigator.clipboard.readText()")
    context.close()
    return out


def run_snippet(snippet_id: str, code: str, hub_url: str, workdir: Path) -> subprocess.CompletedProcess:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "HF_"))},
        "HOME": str(workdir / "home"),
        "HUB_ENDPOINT": hub_url,
        "HF_ENDPOINT": hub_url,
        "HUB_NO_PROGRESS": "1",
        "HUB_CACHE": str(workdir / "cache"),
        "HF_HOME": str(workdir / "hf"),
        "PYTHONPATH": str(ROOT),
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    argv = [sys.executable, "-c", code] if snippet_id == "python" else ["bash", "-euo", "pipefail", "-c", code]
    return subprocess.run(
        argv, check=False, cwd=workdir, env=env, capture_output=True, text=True, timeout=SNIPPET_TIMEOUT
    )


@pytest.mark.parametrize("method", list(METHODS))
def test_each_snippet_runs_as_copied(chromium, published, method, tmp_path):
    offered, peft_type = METHODS[method]
    snippets = copied_snippets(chromium, published.url, f"/alice/{method}")
    assert set(snippets) == offered
    assert "--base" not in snippets["run"]  # the pin finds acme/base on the hub by itself
    assert "hub serve-model --base hub://acme/base@" in snippets["serve"]  # the pinned base, from this hub
    for snippet_id, code in snippets.items():
        if snippet_id == "serve":  # starts a model server on a fixed port: tests/serving/test_serve_snippet.py runs it
            continue
        workdir = tmp_path / snippet_id
        (workdir / "home").mkdir(parents=True)
        done = run_snippet(snippet_id, code, published.url, workdir)
        assert done.returncode == 0, f"{snippet_id} failed:\n{code}\n--- stderr ---\n{done.stderr[-3000:]}"
        out = done.stdout.strip()
        if snippet_id == "pull":
            assert (Path(out.splitlines()[-1]) / "adapter_config.json").is_file()
        elif snippet_id == "run":
            assert "merged" in done.stderr or "attached" in done.stderr
        elif snippet_id == "merge":
            assert (workdir / "merged" / "config.json").is_file()
            assert list((workdir / "merged").glob("*.safetensors"))
        elif snippet_id == "peft":
            assert out.splitlines()[-1] == peft_type
