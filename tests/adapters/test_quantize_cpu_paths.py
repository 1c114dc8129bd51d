"""NF4 on both of bitsandbytes' CPU paths: the packed AVX-512-BF16 kernel (Sapphire Rapids, Zen 4) and the
generic one (every other CPU). Each test runs once per path, whichever CPU runs it (``cpu_paths``): on a base
whose layers mix shapes the packed kernel takes and one it cannot (``down_proj``, 64x96: 96 is no multiple
of the 64-wide block), every linear layer is NF4, the ones the packed kernel takes run on it, the other runs
on the generic kernel with one log line naming it, inference matches the full-precision base, and a QLoRA
run lowers the loss, saves, and loads back on a quantized base on the same path."""

from __future__ import annotations

import logging

import pytest
import torch

from tests.adapters.cpu_paths import PATHS, use_path
from tests.support.tiny_bases import copy_task_rows, make_llama_dir, write_jsonl

LAYERS = [
    f"model.layers.{i}.{part}"
    for i in range(2)
    for part in (
        "self_attn.q_proj",
        "self_attn.k_proj",
        "self_attn.v_proj",
        "self_attn.o_proj",
        "mlp.gate_proj",
        "mlp.up_proj",
        "mlp.down_proj",
    )
]
UNPACKABLE = [name for name in LAYERS if name.endswith("down_proj")]  # [64x96]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    return make_llama_dir(tmp_path_factory.mktemp("base") / "mixed", hidden_size=64, intermediate_size=96)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_jsonl(tmp_path_factory.mktemp("data") / "copy.jsonl", copy_task_rows(32))


def _loss(model, tokenizer, rows) -> float:
    from adapters.training.data import Collator, encode_row, pad_id

    batch = Collator(pad_id(tokenizer))([encode_row(tokenizer, r, "causal-lm", 64) for r in rows])
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    labels = batch["labels"][:, 1:]
    return float(
        torch.nn.functional.cross_entropy(
            logits[:, :-1].reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100
        )
    )


def test_the_shape_rule_is_the_packed_kernels():
    from adapters.training.quantize import packable_on_cpu

    assert packable_on_cpu(64, 64, 64) and packable_on_cpu(32, 128, 64) and packable_on_cpu(2048, 8192, 64)
    assert not packable_on_cpu(32, 32, 64)  # the tiny base's q_proj: in < blocksize, "shape '[32, 0]'"
    assert not packable_on_cpu(16, 64, 64)  # out is no multiple of the 32-row interleave
    assert not packable_on_cpu(64, 96, 64)  # in is no multiple of the block
    assert not packable_on_cpu(48, 128, 64)


@pytest.mark.parametrize("path", PATHS)
def test_every_layer_is_nf4_and_runs_on_a_kernel_that_takes_its_shape(path, mixed, monkeypatch, caplog):
    import bitsandbytes as bnb

    from adapters.base import load_base

    use_path(monkeypatch, path)
    with caplog.at_level(logging.WARNING, logger="adapters.training.quantize"):
        model, tokenizer = load_base(mixed, quantize="nf4")
    quantized = sorted(n for n, m in model.named_modules() if isinstance(m, bnb.nn.Linear4bit))
    assert quantized == sorted(LAYERS)  # every linear layer but lm_head, none left in full precision
    warned = [r.getMessage() for r in caplog.records]
    if path == "packed":
        assert model.hub_kernels == {"packed": [n for n in LAYERS if n not in UNPACKABLE], "generic": UNPACKABLE}
        assert len(warned) == 1
        assert warned[0].startswith("2 NF4 layer(s) have shapes bitsandbytes' packed AVX-512-BF16 CPU kernel")
        assert "model.layers.0.mlp.down_proj [64x96], model.layers.1.mlp.down_proj [64x96]" in warned[0]
    else:
        assert model.hub_kernels == {"packed": [], "generic": LAYERS} and warned == []

    full, _ = load_base(mixed)
    rows = copy_task_rows(8)
    nf4_loss, full_loss = _loss(model, tokenizer, rows), _loss(full, tokenizer, rows)
    assert abs(nf4_loss - full_loss) < 0.05 * full_loss  # 4-bit weights, same model
    repacked = {
        n
        for n, m in model.named_modules()
        if getattr(getattr(m, "weight", None), "quant_state", None) is not None
        and getattr(m.weight.quant_state, "packing_format_for_cpu", False)
    }
    assert repacked == (set(LAYERS) - set(UNPACKABLE) if path == "packed" else set())


@pytest.mark.parametrize("path", PATHS)
def test_qlora_lowers_the_loss_saves_and_loads_on_each_path(path, mixed, data, monkeypatch, tmp_path):
    from safetensors import safe_open

    from adapters.base import load_base
    from adapters.runtime.stack import load_stack
    from adapters.training import train

    use_path(monkeypatch, path)
    result = train(
        mixed,
        "lora",
        data,
        tmp_path / "q",
        quantize="nf4",
        max_steps=12,
        lr=5e-2,
        batch_size=8,
        options={"target_modules": "q_proj,v_proj,down_proj"},
        progress=False,
    )
    assert "eval_loss" in result.metrics  # the held-out rows ran through the quantized base in eval mode
    with safe_open(str(tmp_path / "q" / "adapter_model.safetensors"), "pt") as f:
        assert any("q_proj.lora_A" in k for k in f.keys()) and any("down_proj.lora_A" in k for k in f.keys())  # noqa: SIM118 - safe_open is no mapping
    rows = copy_task_rows(16)
    bare, tokenizer = load_base(mixed, quantize="nf4")
    before = _loss(bare, tokenizer, rows)
    stack = load_stack(mixed, [tmp_path / "q"], quantize="nf4")
    after = _loss(stack, stack.tokenizer, rows)
    assert after < before - 0.25, (before, after)  # nats per answer token, from a random base
    assert stack.model.hub_kernels["packed" if path == "packed" else "generic"]
