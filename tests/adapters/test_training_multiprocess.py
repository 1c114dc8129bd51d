"""Training under `torchrun --nproc_per_node 2` on the CPU (gloo): both ranks train the same steps in one
process group, only rank 0 writes an adapter directory, and what it wrote loads and changes the output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from tests.support.tiny_bases import copy_task_rows, make_llama_dir, write_jsonl

ROOT = Path(__file__).resolve().parents[2]


def test_torchrun_two_processes_train_together_and_only_rank_zero_writes(tmp_path):
    from adapters.base.fingerprint import fingerprint
    from adapters.card import read_card
    from adapters.runtime.stack import load_stack

    base = make_llama_dir(tmp_path / "base")
    data = write_jsonl(tmp_path / "copy.jsonl", copy_task_rows(32))
    out = tmp_path / "runs" / "ddp"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "OMP_NUM_THREADS": "1",
        "CUDA_VISIBLE_DEVICES": "",
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            str(Path(__file__).parent / "ddp_train_worker.py"),
            str(base),
            str(data),
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = sorted(
        (json.loads(line[5:]) for line in proc.stdout.splitlines() if line.startswith("RANK ")), key=lambda r: r["rank"]
    )
    assert [r["rank"] for r in ranks] == [0, 1]
    assert all(r["world"] == 2 and "gloo" in r["backend"] and r["steps"] == 3 for r in ranks), ranks

    written = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert written == ["ddp-rank0"], proc.stdout[
        -1500:
    ]  # rank 1 trained but wrote nothing, not even a partial directory
    adapter = tmp_path / "runs" / "ddp-rank0"
    assert {"adapter_config.json", "adapter_model.safetensors", "README.md"} <= {p.name for p in adapter.iterdir()}
    assert read_card(adapter).hub["base"]["fingerprint"] == fingerprint(base)
    stack = load_stack(base, [adapter], merge=False)
    bare = load_stack(base, [])
    enc = stack.tokenizer("say cat", return_tensors="pt")
    with torch.no_grad():
        assert not torch.allclose(stack(**enc).logits, bare(**enc).logits, atol=1e-4)
