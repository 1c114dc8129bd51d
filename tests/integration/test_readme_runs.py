"""Every ``bash`` and ``python`` block of README.md runs as written, in README order, as a newcomer would: one
shell in a fresh directory (``examples/`` linked in, as in a clone) with a fresh ``HOME``, against the fresh
``hub serve`` the five-minute tour starts, on the demo's base (SmolLM2-135M-Instruct). A block that stops
working fails here, naming its README line and the command. The rule for what is skipped is in
``tests/integration/readme_blocks.py`` (a ``<!-- no-run: REASON -->`` line above the fence; plain fences are
not code to run). ``HUB_TRAIN_MAX_STEPS=2`` keeps every training run to two steps."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.readme_blocks import Block, load, readme_blocks, readme_script

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_rule_finds_every_block_and_refuses_markers_without_reasons():
    blocks = load(ROOT)
    runnable = [b for b in blocks if b.skip_reason is None]
    assert runnable[0].language == "bash" and runnable[0].code.startswith("export HUB_DATA=")  # the tour first
    assert any(b.language == "python" and "HubClient" in b.code for b in runnable)  # the Python API section
    assert all(b.skip_reason.strip() for b in blocks if b.skip_reason is not None)
    text = (
        "intro\n<!-- no-run: needs a GPU -->\n```bash\nhub train --gpu\n```\n```\nhub serve  # plain\n```\n"
        "```python\nprint(1)\n```\n"
    )
    assert readme_blocks(text) == [
        Block("bash", 3, "hub train --gpu", "needs a GPU"),
        Block("python", 9, "print(1)", None),
    ]
    with pytest.raises(ValueError, match="without a reason"):
        readme_blocks("<!-- no-run: -->\n```bash\nls\n```\n")
    with pytest.raises(ValueError, match="never runs anyway"):
        readme_blocks("<!-- no-run: why -->\n```\nls\n```\n")
    script = readme_script(load(ROOT), 12345, 12346)
    assert "127.0.0.1:8000" not in script and "--port 8000" not in script and "HUB_PORT=12345" in script


@pytest.mark.slow
@pytest.mark.timeout(3000)  # the whole README in order: training, QLoRA, DPO, serving and compose
def test_every_readme_block_runs_in_order(tmp_path):
    from adapters.base.default import cache_root, ensure_default_base

    ensure_default_base()
    work = tmp_path / "work"
    work.mkdir()
    (work / "examples").symlink_to(ROOT / "examples")
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "HF_", "AWS_", "TRANSFORMERS_"))}
    env.update(
        HOME=str(home),
        HUB_BASE_CACHE=str(cache_root()),  # the demo's converted base, shared with the rest of the suite
        HUB_TRAIN_MAX_STEPS="2",
        HUB_NO_PROGRESS="1",
        PYTHONPATH=str(ROOT),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_CONFIG_HOME=str(home / ".config"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    blocks = load(ROOT)
    script = readme_script(blocks, _free_port(), _free_port())
    (tmp_path / "readme.sh").write_text(script)
    proc = subprocess.run(
        ["bash", str(tmp_path / "readme.sh")],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=3000,
        check=False,
    )
    (tmp_path / "readme.stderr").write_text(proc.stderr)
    failed = [ln for ln in proc.stderr.splitlines() if ln.startswith("::failed")]
    assert proc.returncode == 0 and not failed, "\n".join(
        [*failed, *_last_block_lines(proc.stderr), proc.stdout[-2000:]]
    )
    assert "::readme done" in proc.stderr
    ran = [ln for ln in proc.stderr.splitlines() if ln.startswith("::block")]
    assert len(ran) == sum(b.skip_reason is None for b in blocks)
    out = proc.stdout
    # a few results the tour promises, so a block that quietly does nothing is noticed too
    assert re.search(r"^sha256:[0-9a-f]{64}$", out, re.MULTILINE)  # hub base fingerprint
    assert "alice/sentiment-lora@1.0.0 published" in out and "alice/smollm2-135m-instruct@1.0.0 published" in out
    assert (work / "merged" / "config.json").is_file() and list((work / "merged").glob("*.safetensors"))
    assert (work / "combined" / "adapter_model.safetensors").is_file()
    assert "alice/sentiment-lora@1.0.0 yanked: bad data" in out
    assert (work / "merged-python" / "config.json").is_file()  # the Python API section
    assert "refs/pr/1" in out  # the branches/pull requests section
    assert "num_rows: 50" in out  # datasets.load_dataset through the hub
    assert (work / "merged-qlora" / "config.json").is_file() and (work / "runs" / "dpo").is_dir()
    assert (work / "composed" / "adapter_model.safetensors").is_file()
    assert "error:" not in proc.stderr


def _last_block_lines(stderr: str, keep: int = 40) -> list[str]:
    """What the failing block wrote, without progress-bar redraws, so a CI log names the cause."""
    tail = stderr[stderr.rfind("::block") :]
    lines = [part.split("\r")[-1] for part in tail.splitlines()]
    return [line for line in lines if line.strip()][-keep:]
