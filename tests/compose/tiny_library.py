"""A tiny library of trained task LoRAs on a tiny random LLaMA, for find/compose tests.

Three tasks on the same prompts ``say WORD``: ``copy`` answers WORD, ``shout`` answers WORD in capitals,
``nope`` always answers ``no``. Each LoRA is trained for real (a few seconds), so "the adapter of the
matching task" is a learned fact, not a planted one.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.tiny_bases import make_llama_dir, write_jsonl

WORDS = ["cat", "dog", "sun", "red", "blue", "tree", "moon", "fish", "lamp", "rock", "bird", "star"]
FEW = ["lamp", "rock", "bird", "star", "cat"]  # the handful of examples a new task gives
ANSWERS = {"copy": lambda w: w, "shout": lambda w: w.upper(), "nope": lambda w: "no"}


def task_rows(task: str, words: list[str] = WORDS, repeat: int = 4) -> list[dict]:
    return [{"prompt": f"say {w}", "completion": ANSWERS[task](w)} for w in words] * repeat


def split_task_rows(fit_task: str, held_task: str, seed: int = 0) -> list[dict]:
    """WORDS as examples whose held-out rows (as compose's default split draws them for ``seed``) answer
    ``held_task`` and whose fitted rows answer ``fit_task``: what the optimiser fits is not what is held out."""
    from adapters.composition.few_shot import Examples
    from adapters.composition.selection import split_examples

    held = set(split_examples(Examples(task_rows(fit_task, repeat=1), "", ""), seed=seed).held_out_rows)
    return [
        {"prompt": f"say {w}", "completion": ANSWERS[held_task if i in held else fit_task](w)}
        for i, w in enumerate(WORDS)
    ]


def build(root: Path) -> tuple[Path, dict[str, Path]]:
    """The tiny base and one trained LoRA per task (ranks and targets differ on purpose)."""
    from adapters.training import train

    base = make_llama_dir(root / "base")
    options = {
        "copy": {"r": 4, "target_modules": "q_proj,v_proj"},
        "shout": {"r": 8, "target_modules": "q_proj,v_proj,o_proj"},
        "nope": {"r": 2, "target_modules": "v_proj,down_proj"},
    }
    adapters = {}
    for task, opts in options.items():
        data = write_jsonl(root / f"{task}.jsonl", task_rows(task))
        train(
            base,
            "lora",
            data,
            root / task,
            options=opts,
            max_steps=60,
            lr=2e-2,
            batch_size=8,
            eval_fraction=0.1,
            progress=False,
            seed=0,
        )
        adapters[task] = root / task
    return base, adapters


def with_noise(src: Path, dst: Path, noise: dict, sign: float) -> Path:
    """The LoRA at ``src`` with ``sign * noise`` beside it (ranks concatenated, the scale alpha/r kept)."""
    import json
    import shutil

    import torch
    from safetensors.torch import load_file, save_file

    shutil.copytree(src, dst)
    tensors = load_file(str(dst / "adapter_model.safetensors"))
    save_file(
        {
            k: torch.cat([v, noise[k]], 0) if "lora_A" in k else torch.cat([v, sign * noise[k]], 1)
            for k, v in tensors.items()
        },
        str(dst / "adapter_model.safetensors"),
    )
    config = json.loads((dst / "adapter_config.json").read_text())
    config.update(r=2 * config["r"], lora_alpha=2 * config["lora_alpha"])
    (dst / "adapter_config.json").write_text(json.dumps(config))
    return dst


def noise_like(src: Path, seed: int, scale: float = 1.0) -> dict:
    """A random update shaped like the LoRA at ``src`` (it hurts: nothing trained it)."""
    import torch
    from safetensors.torch import load_file

    g = torch.Generator().manual_seed(seed)
    return {
        k: torch.randn(v.shape, generator=g) * (0.5 * scale if "lora_B" in k else v.shape[1] ** -0.5)
        for k, v in load_file(str(src / "adapter_model.safetensors")).items()
    }
