"""`make demo` end to end (default training, fewer held-out lines and timing runs): every step passes,
the adapter improves the score, alice's signed adapter verifies on bob's side, and the server and
temporary directory are gone afterwards."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_demo_tells_the_whole_story_and_leaves_nothing_running(tmp_path):
    from adapters.base.default import ensure_default_base

    ensure_default_base()  # built once, as `make demo` would
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env["TMPDIR"] = str(tmp_path)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py"), "--eval-limit", "10", "--runs", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:] + proc.stderr[-3000:]
    assert [int(n) for n in re.findall(r"=== step (\d+):", out)] == [1, 2, 3, 4, 5, 6]
    before = float(re.search(r"before: exact match ([\d.]+)", out).group(1))
    after = float(re.search(r"after:  exact match ([\d.]+)", out).group(1))
    assert after > before
    assert "alice/sentiment-lora  adapter  1.0.0   lora" in out  # bob's search found it, pinned, with its method
    assert re.search(r"-> '(positive|negative)'", out)
    err = proc.stderr
    assert "verified alice/sentiment-lora@1.0.0: signed by alice, key sha256:" in err  # bob's pull
    assert "(key pinned on first use)" in err
    assert "verified alice/smollm2-135m-instruct@1.0.0: signed by alice" in err
    assert re.search(r"verified \S+: every file matches model.sig, signed by alice with key sha256:", out)
    assert re.search(r"data +\S+train.jsonl  sha256:[0-9a-f]{64}  300 rows", out)  # hub info --provenance
    assert re.search(r"ratio \d+\.\d\d", out)
    pid = int(re.search(r"\(pid (\d+)\)", out).group(1))
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
    assert list(tmp_path.glob("adapter-hub-demo-*")) == []  # the demo's temporary directory is removed
