"""Train one LoRA per library task on SmolLM2-135M-Instruct and push them to a hub.

The trained adapters are cached under the user cache dir, keyed by the training file, the settings and
the base's fingerprint, so a second run (or a test, or ``examples/compose/reproduce.py``) reuses them in
seconds. Pushing the same adapter again is a no-op on the hub (same manifest, same commit id).

    python examples/tasks/make_tasks.py                          # (data already shipped)
    python -m examples.tasks.build_library                       # train (cached), print the directories
    HUB_ENDPOINT=http://127.0.0.1:8000 HUB_TOKEN=... \\
        python -m examples.tasks.build_library --push --namespace tasks
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent

from adapters.settings import user_cache_path
from examples.tasks.make_tasks import LIBRARY, TASKS

SETTINGS = {"method": "lora", "r": 8, "lora_alpha": 16, "max_steps": 6, "lr": 1e-2, "batch_size": 8, "seed": 0}
VERSION = "1.0.0"


def cache_dir() -> Path:
    override = os.environ.get("HUB_TASK_LIBRARY")  # this example's own variable
    return Path(override) if override else user_cache_path("task-library")


def _key(task: str, base_fingerprint: str, settings: dict) -> str:
    train = (HERE / task / "train.jsonl").read_bytes()
    blob = json.dumps({"settings": settings, "base": base_fingerprint}, sort_keys=True).encode() + train
    return hashlib.sha256(blob).hexdigest()[:16]


def train_task(
    base: Path,
    task: str,
    out_root: Path | None = None,
    settings: dict = SETTINGS,
    data: Path | None = None,
    progress: bool = True,
) -> Path:
    """The cached LoRA for ``task`` (trained now if missing); ``data`` overrides the task's training file."""
    from adapters.base import pin_for
    from adapters.card import read_card, write_card
    from adapters.training import train

    data = data or HERE / task / "train.jsonl"
    pin = pin_for(base)
    key = (
        _key(task, pin.fingerprint, settings)
        if data == HERE / task / "train.jsonl"
        else hashlib.sha256(data.read_bytes() + json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
    )
    out = (out_root or cache_dir()) / f"{task}-{key}"
    if (out / "adapter_model.safetensors").is_file() and (out / "README.md").is_file():
        return out
    tmp = out.with_name(out.name + ".partial")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    train(
        base,
        settings["method"],
        data,
        tmp,
        options={"r": settings["r"], "lora_alpha": settings["lora_alpha"]},
        max_steps=settings["max_steps"],
        lr=settings["lr"],
        batch_size=settings["batch_size"],
        seed=settings["seed"],
        eval_data=HERE / task / "heldout.jsonl",
        progress=progress,
    )
    card = read_card(tmp)
    front = dict(card.front)
    front["tags"] = sorted(set(front.get("tags") or []) | {task, "task-library"})
    front["adapter_hub"] = {**front["adapter_hub"], "usage": TASKS[task][0]}
    write_card(
        tmp,
        front,
        f"# {task} LoRA\n\nOne-word answers for the `{task}` task of examples/tasks.\nPrompt: `{TASKS[task][0]}`\n",
    )
    tmp.rename(out)
    return out


def build(base: Path, tasks=LIBRARY, progress: bool = True) -> dict[str, Path]:
    return {task: train_task(base, task, progress=progress) for task in tasks}


def push(dirs: dict[str, Path], namespace: str, client=None) -> dict[str, str]:
    """Push each adapter as ``NAMESPACE/TASK-lora@1.0.0``; returns task -> reference."""
    from hub_client import HubClient

    client = client or HubClient()
    refs = {}
    for task, path in dirs.items():
        repo = f"{namespace}/{task}-lora"
        client.push(path, repo, VERSION, message=f"{task} LoRA from examples/tasks")
        refs[task] = f"{repo}@{VERSION}"
    return refs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=None, help="base model dir (default: python -m adapters.base.default)")
    parser.add_argument("--push", action="store_true", help="push to the hub in HUB_ENDPOINT / the client config")
    parser.add_argument("--namespace", default="tasks")
    args = parser.parse_args()
    from adapters.base.default import ensure_default_base

    base = Path(args.base) if args.base else ensure_default_base()
    dirs = build(base)
    for task, path in dirs.items():
        print(f"{task}\t{path}")
    if args.push:
        for ref in push(dirs, args.namespace).values():
            print(f"pushed {ref}")


if __name__ == "__main__":
    main()
