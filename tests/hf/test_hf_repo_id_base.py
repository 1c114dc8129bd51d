"""A base given as a Hugging Face repo id with ``--revision`` comes from the local HF cache, offline:
the cache is filled from our hub through unmodified ``huggingface_hub``, then `hub train` runs with
``HF_HUB_OFFLINE=1`` and no endpoint, and the adapter's pin names the repo, revision and weights."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.hf.hf_harness import push_dir
from tests.support.tiny_bases import make_llama_dir


def _offline_hub(args: list[str], hf_home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_", "HUB_"))}
    env.update(HF_HOME=str(hf_home), HF_HUB_OFFLINE="1", HF_HUB_DISABLE_TELEMETRY="1")
    return subprocess.run(
        [sys.executable, "-m", "hub_client.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_train_on_an_hf_repo_id_from_the_offline_cache(hub, run_hf, tmp_path):
    from adapters.base.fingerprint import fingerprint
    from adapters.card import read_card

    ann = hub.token("ann", "write")
    base = make_llama_dir(tmp_path / "tiny")
    push_dir(hub, ann, "ann/tiny-llama", base, "1.0.0", kind="base")
    cached = run_hf("""
        from huggingface_hub import snapshot_download
        print(json.dumps({"path": snapshot_download("ann/tiny-llama", revision="1.0.0")}))
    """)
    hf_home = tmp_path / "hf_home"
    assert Path(cached["path"]).is_relative_to(hf_home)

    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"say {w}", "completion": w}) + "\n" for w in ["yes", "no"] * 8))
    out = tmp_path / "lora"
    done = _offline_hub(
        [
            "train",
            "--base",
            "ann/tiny-llama",
            "--revision",
            "1.0.0",
            "--method",
            "lora",
            "--data",
            str(data),
            "--out",
            str(out),
            "--max-steps",
            "2",
            "--no-progress",
        ],
        hf_home,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    pin = read_card(out).front["adapter_hub"]["base"]
    assert (pin["id"], pin["revision"]) == ("ann/tiny-llama", "1.0.0")
    assert pin["fingerprint"] == fingerprint(base)

    missing = _offline_hub(
        ["train", "--base", "ann/not-cached", "--method", "lora", "--data", str(data), "--out", str(tmp_path / "x")],
        hf_home,
    )
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines()[-1].startswith("error: base 'ann/not-cached' is not in the local")
