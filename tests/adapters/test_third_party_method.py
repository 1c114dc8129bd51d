"""A method from another package plugs in through the entry-point group alone.

The package is written into a temporary directory with a dist-info carrying
``entry_points.txt``; nothing in the core names it. It then shows in ``hub methods``,
trains, saves, loads and stacks like a built-in.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from tiny_bases import copy_task_rows, make_llama_dir, write_jsonl  # noqa: E402

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


    LOGIT_BIAS = MethodSpec(
        name="logit_bias", summary="A learned bias added to every output logit.",
        prepare=prepare, save=save, detect=lambda cfg: cfg.get("peft_type") == "LOGIT_BIAS", attach=attach,
        options=(MethodOption("unused", int, 0, "an option to show in hub methods"),), tasks=("causal-lm",),
        extra={"default_lr": 0.1},
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
    (dist / "entry_points.txt").write_text("[adapter_hub.methods]\nlogit_bias = logit_bias_plugin:LOGIT_BIAS\n")
    from adapters.registry import registry

    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setattr(registry, "_loaded", False)
    yield root
    registry._specs.pop("logit_bias", None)


def test_hub_methods_lists_the_plugin(plugin_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_path), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-m", "hub_client.cli", "methods", "--json"], capture_output=True,
                         text=True, env=env, check=True).stdout
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["logit_bias"]["options"][0]["name"] == "unused"
    assert {"lora", "bottleneck"} <= set(rows)


def test_plugin_trains_saves_loads_and_stacks(plugin_path, tmp_path):
    from adapters.card import read_card
    from adapters.registry import get_method, method_for_dir
    from adapters.stack import load_stack
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
