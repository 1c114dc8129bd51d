"""A method from another package plugs in through the entry-point group alone.

The package is written into a temporary directory with a dist-info carrying
``entry_points.txt``; nothing in the core names it. It then shows in ``hub methods``,
trains, saves, loads and stacks like a built-in; because it declares ``combinable`` with its own
``combine``, ``hub combine`` blends it, while its twin that declares nothing is refused in one line.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from tests.support.tiny_bases import copy_task_rows, make_llama_dir, write_jsonl

PLUGIN = textwrap.dedent('''
    """A learned bias on the output logits: the smallest possible adapter."""
    import json
    from pathlib import Path

    import torch
    from torch import nn

    from adapters.registry import MethodOption, MethodSpec


    class _Bias(nn.Module):
        def __init__(self, vocab):
            super().__init__()
            self.bias = nn.Parameter(torch.zeros(vocab))


    class _Attachment:
        mergeable = False
        merged = False
        latency_note = "adds one vector to the logits"

        def __init__(self, model, module, name):
            self.name, self.model, self.module = name, model, module
            self.handle = model.get_output_embeddings().register_forward_hook(
                lambda _m, _i, out: out + self.module.bias)

        def merge(self):
            raise RuntimeError("not mergeable")

        def unmerge(self):
            pass

        def detach(self):
            self.handle.remove()


    def prepare(model, options, task):
        for p in model.parameters():
            p.requires_grad_(False)
        module = _Bias(model.config.vocab_size)
        model.add_module("logit_bias_adapter", module)
        _Attachment(model, module, "train")
        return model


    def save(trained, out_dir, options):
        from safetensors.torch import save_file
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "adapter_config.json").write_text(json.dumps({"peft_type": "LOGIT_BIAS"}))
        save_file({"bias": trained.logit_bias_adapter.bias.detach().contiguous()},
                  str(out_dir / "adapter_model.safetensors"))


    def attach(model, adapter_dir, weight=1.0, name=None):
        from safetensors.torch import load_file
        module = _Bias(model.config.vocab_size)
        with torch.no_grad():
            module.bias.copy_(load_file(str(Path(adapter_dir) / "adapter_model.safetensors"))["bias"] * weight)
        return _Attachment(model, module, name or Path(adapter_dir).name)


    def combine(request):
        """Stacked biases add up (each scaled by its weight), so the weighted sum is exact."""
        from safetensors.torch import load_file, save_file
        total = sum(load_file(str(Path(d) / "adapter_model.safetensors"))["bias"] * w
                    for d, w in zip(request.parents, request.weights))
        for _ in request.parents:
            request.step()
        (request.out / "adapter_config.json").write_text(json.dumps({"peft_type": "LOGIT_BIAS", "unused": 3}))
        save_file({"bias": total.contiguous()}, str(request.out / "adapter_model.safetensors"))
        return {"rule": "sum"}


    LOGIT_BIAS = MethodSpec(
        name="logit_bias", summary="A learned bias added to every output logit.",
        prepare=prepare, save=save, detect=lambda cfg: cfg.get("peft_type") == "LOGIT_BIAS", attach=attach,
        options=(MethodOption("unused", int, 0, "an option to show in hub methods"),), tasks=("causal-lm",),
        default_lr=0.1, combinable=True, combine=combine, combinations=("sum",),
    )

    PLAIN_BIAS = MethodSpec(
        name="plain_bias", summary="The same bias, declaring no combine capability.",
        prepare=prepare, save=save, detect=lambda cfg: cfg.get("peft_type") == "PLAIN_BIAS", attach=attach,
        tasks=("causal-lm",),
    )
''')


@pytest.fixture()
def plugin_path(tmp_path, monkeypatch):
    root = tmp_path / "site"
    (root / "logit_bias_plugin").mkdir(parents=True)
    (root / "logit_bias_plugin" / "__init__.py").write_text(PLUGIN)
    dist = root / "logit_bias_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: logit-bias-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[adapter_hub.methods]\nlogit_bias = logit_bias_plugin:LOGIT_BIAS\nplain_bias = logit_bias_plugin:PLAIN_BIAS\n"
    )
    from adapters.registry import registry

    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setattr(registry, "_loaded", False)
    yield root
    registry._specs.pop("logit_bias", None)
    registry._specs.pop("plain_bias", None)


def test_hub_methods_lists_the_plugin(plugin_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_path), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "-m", "hub_client.cli", "methods", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["logit_bias"]["options"][0]["name"] == "unused"
    assert rows["logit_bias"]["default_lr"] == 0.1 and rows["logit_bias"]["combinations"] == ["sum"]
    assert rows["plain_bias"]["combinations"] == []
    assert {"lora", "bottleneck"} <= set(rows)


def test_plugin_trains_saves_loads_and_stacks(plugin_path, tmp_path):
    from adapters.card import read_card
    from adapters.registry import get_method, method_for_dir
    from adapters.runtime.stack import load_stack
    from adapters.training import train

    assert get_method("logit_bias").summary.startswith("A learned bias")
    base = make_llama_dir(tmp_path / "llama")
    data = write_jsonl(tmp_path / "d.jsonl", copy_task_rows())
    untrained = train(base, "logit_bias", data, tmp_path / "u", max_steps=1, lr=0.0, batch_size=8, progress=False)
    result = train(base, "logit_bias", data, tmp_path / "a", max_steps=15, lr=0.1, batch_size=8, progress=False)
    assert result.metrics["eval_loss"] < untrained.metrics["eval_loss"]
    assert read_card(result.output_dir).hub["method"] == "logit_bias"
    assert method_for_dir(result.output_dir).name == "logit_bias"

    enc = result.tokenizer("say moon", return_tensors="pt")
    with torch.no_grad():
        expected = result.model(**enc).logits
        stack = load_stack(base, [result.output_dir])
        torch.testing.assert_close(stack(**enc).logits, expected, atol=1e-5, rtol=0)
        stack.detach_all()


def _bias_adapter(out: Path, base: Path, peft_type: str, seed: int) -> Path:
    """A saved, pinned plugin adapter with a random (non-zero) bias, written as the plugin's ``save`` does."""
    from safetensors.torch import save_file
    from transformers import AutoConfig

    from tests.support.stack_fixtures import pin_adapter

    vocab = AutoConfig.from_pretrained(base).vocab_size
    out.mkdir(parents=True)
    (out / "adapter_config.json").write_text(json.dumps({"peft_type": peft_type}))
    bias = torch.randn(vocab, generator=torch.Generator().manual_seed(seed))
    save_file({"bias": bias.contiguous()}, str(out / "adapter_model.safetensors"))
    return pin_adapter(out, base)


def _hub(args: list[str], plugin_path: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(plugin_path), os.environ.get("PYTHONPATH", "")]),
        "HUB_CACHE": str(tmp_path / "cache"),
        "HUB_CONFIG_DIR": str(tmp_path / "config"),
    }
    return subprocess.run(
        [sys.executable, "-m", "hub_client.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_a_plugin_declaring_combinable_is_combined_by_the_api_and_hub_combine(plugin_path, tmp_path):
    from adapters.card import read_card
    from adapters.composition.combine import combine_adapters
    from adapters.runtime.stack import load_stack

    base = make_llama_dir(tmp_path / "llama")
    parents = [_bias_adapter(tmp_path / f"b{i}", base, "LOGIT_BIAS", seed=i) for i in range(2)]
    weights = [0.5, 2.0]
    api = combine_adapters(parents, tmp_path / "api", weights=weights, base=base, progress=False)
    done = _hub(
        [
            "combine",
            *map(str, parents),
            "--weights",
            "0.5,2",
            "--base",
            str(base),
            "--out",
            str(tmp_path / "cli"),
            "--no-progress",
        ],
        plugin_path,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    ids = torch.randint(8, 100, (2, 5), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        stacked = load_stack(base, parents, weights)(input_ids=ids).logits
        plain = load_stack(base, [])(input_ids=ids).logits
        for out in (api, tmp_path / "cli"):
            torch.testing.assert_close(load_stack(base, [out])(input_ids=ids).logits, stacked, atol=1e-5, rtol=0)
            card = read_card(out)
            assert card.hub["method"] == "logit_bias" and "logit_bias" in card.front["tags"]
            assert card.hub["combination"] == {"how": "sum", "weights": weights, "rule": "sum"}
            assert card.hub["method_options"] == {"unused": 3}
            assert [p["method"] for p in card.hub["lineage"]] == ["logit_bias", "logit_bias"]
    assert (stacked - plain).abs().max() > 1e-2


def test_a_plugin_without_combinable_is_refused_in_one_line(plugin_path, tmp_path):
    from adapters.composition.combine import combine_adapters
    from adapters.errors import AdapterError

    base = make_llama_dir(tmp_path / "llama")
    parents = [_bias_adapter(tmp_path / f"p{i}", base, "PLAIN_BIAS", seed=i) for i in range(2)]
    line = "method plain_bias cannot be combined: its MethodSpec does not declare combinable"
    with pytest.raises(AdapterError) as caught:
        combine_adapters(parents, tmp_path / "api", base=base, progress=False)
    assert str(caught.value) == line
    done = _hub(
        ["combine", *map(str, parents), "--base", str(base), "--out", str(tmp_path / "cli"), "--no-progress"],
        plugin_path,
        tmp_path,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"error: {line}"]
    assert not (tmp_path / "api").exists() and not (tmp_path / "cli").exists()
