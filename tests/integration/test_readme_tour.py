"""The README's five-minute tour runs as written: its bash block, line by line, in a fresh HOME against a fresh
`hub serve` on the real SmolLM2 base. Only the port is changed (a free one instead of 8000), and
``HUB_TRAIN_MAX_STEPS=2`` keeps each training run to two steps. A README command that stops working fails here."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def tour_lines() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Five-minute tour (CLI)", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "the README has no bash block in its five-minute tour"
    return [line for line in block.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tour_script(lines: list[str], port: int) -> str:
    """One bash script: each README line is a numbered step; the first failure names its step and exits."""
    health = (f"for _ in $(seq 1 240); do python -c \"import httpx; httpx.get('http://127.0.0.1:{port}/healthz')"
              ".raise_for_status()\" 2>/dev/null && break; sleep 0.5; done")
    out = ["set -eEuo pipefail", "SERVER=", "STEP=0",
           "trap 'echo \"::failed step $STEP: $BASH_COMMAND\" >&2' ERR",
           "trap '[ -n \"$SERVER\" ] && kill $SERVER 2>/dev/null; wait 2>/dev/null || true' EXIT"]
    for number, line in enumerate(lines, start=1):
        line = line.replace("8000", str(port))
        out.append(f"STEP={number}; echo {shlex.quote(f'::step {number}: {line.strip()}')} >&2")
        command = line.split(" #", 1)[0].rstrip() if " #" in line else line
        if command.endswith("&"):
            out += [command, "SERVER=$!", health]
        else:
            out.append(line)
    out.append("echo '::tour done' >&2")
    return "\n".join(out) + "\n"


def test_tour_block_is_found_and_every_line_is_a_command():
    lines = tour_lines()
    assert lines[0].startswith("hub serve") and lines[0].split(" #")[0].rstrip().endswith("&")
    assert any(line.startswith("hub combine") for line in lines)
    script = tour_script(lines, 12345)
    assert "8000" not in script and "--port 12345 &" in script


def test_readme_tour_runs_as_written(tmp_path):
    from adapters.base.default import cache_root, ensure_default_base

    ensure_default_base()
    work = tmp_path / "work"
    work.mkdir()
    (work / "examples").symlink_to(ROOT / "examples")
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "HF_"))}
    env.update(HOME=str(home), HUB_BASE_CACHE=str(cache_root()), HUB_TRAIN_MAX_STEPS="2", HUB_NO_PROGRESS="1",
               HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT), XDG_CACHE_HOME=str(home / ".cache"),
               XDG_CONFIG_HOME=str(home / ".config"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    script = tour_script(tour_lines(), _free_port())
    proc = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=1800)
    failed = [ln for ln in proc.stderr.splitlines() if ln.startswith("::failed")]
    assert proc.returncode == 0 and not failed, (failed, proc.stderr[-4000:], proc.stdout[-2000:])
    assert "::tour done" in proc.stderr
    out = proc.stdout
    assert re.search(r"^sha256:[0-9a-f]{64}$", out, re.M)  # hub base fingerprint
    assert "alice/sentiment-lora@1.0.0 published" in out and "alice/smollm2-135m-instruct@1.0.0 published" in out
    assert "alice/sentiment-lora" in out and "HuggingFaceTB/SmolLM2-135M-Instruct" in out  # the search row
    assert (work / "merged" / "config.json").is_file() and list((work / "merged").glob("*.safetensors"))
    assert (work / "combined" / "adapter_model.safetensors").is_file()
    assert "alice/sentiment-lora@1.0.0 yanked: bad data" in out
    assert "error:" not in proc.stderr
