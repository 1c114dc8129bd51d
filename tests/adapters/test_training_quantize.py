"""QLoRA: `--quantize nf4|int8` trains every quantizable method on a bitsandbytes base (real bitsandbytes on
the CPU), the card records the quantization next to the unchanged full-precision pin, the adapter then
runs on the full-precision base, merges into it, and runs on a quantized base; merging into a quantized
base, quantizing a method that declares it cannot, and a machine without a bitsandbytes backend are all
refused in one line with nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from adapters.base.fingerprint import fingerprint
from adapters.card import read_card
from adapters.errors import AdapterError
from adapters.registry import list_methods
from hub_client.cli.main import main
from tests.adapters.cpu_paths import PATHS, use_path
from tests.support.tiny_bases import copy_task_rows, make_llama_dir, write_jsonl

QUANTIZABLE = [s.name for s in list_methods() if s.quantizable]
NOT_QUANTIZABLE = [s.name for s in list_methods() if not s.quantizable]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    return make_llama_dir(tmp_path_factory.mktemp("base") / "llama")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_jsonl(tmp_path_factory.mktemp("data") / "copy.jsonl", copy_task_rows(16))


@pytest.fixture(scope="module")
def qlora(llama, data, tmp_path_factory):
    """A LoRA trained on the NF4 base with a high learning rate, so it visibly changes the output."""
    from adapters.training import train

    out = tmp_path_factory.mktemp("runs") / "qlora"
    train(llama, "lora", data, out, quantize="nf4", max_steps=4, lr=5e-2, batch_size=4, progress=False)
    return out


def _logits(stack, text="say cat"):
    enc = stack.tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        return stack(**enc).logits


def test_the_flags_are_declared_and_shown():
    assert "lora" in QUANTIZABLE and "bottleneck" in NOT_QUANTIZABLE
    rows = {r["name"]: r for r in json.loads(CliRunner().invoke(main, ["methods", "--json"]).output)}
    assert {n for n, r in rows.items() if r["quantizable"]} == set(QUANTIZABLE)
    assert "dpo" in rows["lora"]["objectives"] and "dpo" not in rows["bottleneck"]["objectives"]
    text = CliRunner().invoke(main, ["methods"]).output
    assert "objectives: causal-lm, seq-cls, dpo, distill, reward, grpo; --quantize nf4|int8" in text
    assert "objectives: causal-lm, seq-cls, distill; no --quantize" in text


@pytest.mark.parametrize("method", QUANTIZABLE)
def test_every_quantizable_method_trains_on_nf4_and_pins_the_full_precision_base(method, llama, data, tmp_path):
    from adapters.runtime.stack import load_stack
    from adapters.training import train

    out = tmp_path / method
    result = train(llama, method, data, out, quantize="nf4", max_steps=1, batch_size=4, progress=False)
    assert result.steps == 1
    hub = read_card(out).hub
    assert hub["base"]["fingerprint"] == fingerprint(llama)  # the pin is the fp32 weights, not the quantized ones
    assert hub["quantization"]["type"] == "nf4" and hub["quantization"]["bits"] == 4
    assert hub["quantization"]["library"] == "bitsandbytes"
    assert "qlora" in read_card(out).front["tags"]
    for quantize in (None, "nf4"):  # loads on the full-precision base unchanged, and on a quantized one
        stack = load_stack(llama, [out], quantize=quantize)
        assert torch.isfinite(_logits(stack)).all()


def test_int8_trains_and_the_card_says_so(llama, data, tmp_path):
    from adapters.training import train

    train(llama, "lora", data, tmp_path / "int8", quantize="int8", max_steps=1, batch_size=4, progress=False)
    assert read_card(tmp_path / "int8").hub["quantization"]["bits"] == 8


@pytest.mark.parametrize("path", PATHS)  # bitsandbytes' two CPU paths (tests/adapters/cpu_paths.py)
def test_qlora_adapter_runs_on_both_bases_and_merges_into_the_full_precision_one(
    path, llama, qlora, tmp_path, monkeypatch
):
    from transformers import AutoModelForCausalLM

    from adapters.base import load_base
    from adapters.runtime.merge import merge_to_dir
    from adapters.runtime.stack import load_stack

    use_path(monkeypatch, path)
    fp32 = load_stack(llama, [qlora])
    hooked = _logits(fp32)
    bare, _ = load_base(llama)
    enc = fp32.tokenizer("say cat", return_tensors="pt")
    with torch.no_grad():
        assert not torch.allclose(bare(**enc).logits, hooked, atol=1e-3)  # the adapter does something
    nf4 = load_stack(llama, [qlora], quantize="nf4")
    nf4_bare = load_stack(llama, [], quantize="nf4")
    assert nf4.quantization == "nf4"
    assert not torch.allclose(_logits(nf4), _logits(nf4_bare), atol=1e-3)
    merge_to_dir(llama, [qlora], None, tmp_path / "merged", progress=False)
    merged = AutoModelForCausalLM.from_pretrained(tmp_path / "merged", dtype=torch.float32)
    with torch.no_grad():
        torch.testing.assert_close(merged(**enc).logits, hooked, atol=1e-4, rtol=1e-4)


def test_merge_into_a_quantized_base_is_refused_before_anything_is_written(llama, qlora, tmp_path):
    from adapters.runtime.merge import merge_to_dir
    from adapters.runtime.stack import load_stack

    with pytest.raises(AdapterError, match="merge into the full-precision base"):
        merge_to_dir(llama, [qlora], None, tmp_path / "m", quantize="nf4", progress=False)
    assert not (tmp_path / "m").exists()
    stack = load_stack(llama, [qlora], quantize="nf4")
    before = _logits(stack)
    with pytest.raises(AdapterError, match="cannot merge into a nf4-quantized base"):
        stack.merge()
    torch.testing.assert_close(_logits(stack), before)  # nothing was folded

    result = CliRunner().invoke(
        main, ["merge", "--base", str(llama), str(qlora), "--out", str(tmp_path / "c"), "--quantize", "nf4"]
    )
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        (
            "error: cannot merge into a nf4-quantized base: merge into the full-precision base instead (drop "
            "--quantize); the adapter is pinned to it"
        )
    ]
    assert not (tmp_path / "c").exists()
    run = CliRunner().invoke(
        main, ["run", "--base", str(llama), str(qlora), "--merge", "--quantize", "nf4", "--prompt", "say cat"]
    )
    assert run.exit_code == 1 and "merge into the full-precision base" in run.output


@pytest.mark.parametrize("path", PATHS)
def test_hub_run_on_a_quantized_base(path, llama, qlora, monkeypatch):
    use_path(monkeypatch, path)
    result = CliRunner().invoke(
        main,
        ["run", "--base", str(llama), str(qlora), "--quantize", "nf4", "--prompt", "say cat", "--max-new-tokens", "3"],
    )
    assert result.exit_code == 0, result.output
    assert "(lora, weight 1): attached" in result.output


@pytest.mark.parametrize("method", NOT_QUANTIZABLE)
def test_a_method_that_cannot_quantize_is_refused_in_one_line(method, llama, data, tmp_path):
    out = tmp_path / "runs" / "x"
    result = CliRunner().invoke(
        main,
        [
            "train",
            "--base",
            str(llama),
            "--method",
            method,
            "--data",
            str(data),
            "--out",
            str(out),
            "--quantize",
            "nf4",
            "--max-steps",
            "1",
        ],
    )
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        (
            f"error: method {method!r} cannot train on a quantized base; drop --quantize (`hub methods` shows which "
            "methods can)"
        )
    ]
    assert not (tmp_path / "runs").exists()


def test_no_bitsandbytes_backend_is_one_line_and_nothing_written(llama, data, tmp_path):
    """A machine whose bitsandbytes cannot load (here: an install that fails to import) gets one line."""
    shadow = tmp_path / "shadow" / "bitsandbytes"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text('raise ImportError("bitsandbytes library load error: no CPU backend")\n')
    runs = tmp_path / "runs"
    runs.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "shadow"), str(ROOT)])}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "hub_client.cli",
            "train",
            "--base",
            str(llama),
            "--method",
            "lora",
            "--data",
            str(data),
            "--out",
            str(runs / "q"),
            "--quantize",
            "nf4",
            "--max-steps",
            "1",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines == [
        (
            "error: --quantize nf4 needs a working bitsandbytes backend on cpu, and this machine has none "
            "(bitsandbytes library load error: no CPU backend)"
        )
    ]
    assert list(runs.iterdir()) == []
