"""Preference pairs the training tests share (DPO, reward, GRPO, distill): words to build prompts from, and
pairs whose chosen answer opens with a fixed friendly phrase while the rejected one is the bare word, so a
tiny model can learn the preference in a few steps."""

from __future__ import annotations

from pathlib import Path

from tests.support.tiny_bases import write_jsonl

WORDS = ["cat", "dog", "sun", "red", "blue", "tree", "moon", "fish", "star", "leaf", "rain", "sand"]


def pairs(words: list[str]) -> list[dict]:
    """Chosen answers open with a fixed friendly phrase; rejected ones are the bare word."""
    return [{"prompt": f"say {w}", "chosen": f"ok! {w}", "rejected": w} for w in words]


def pair_files(root: Path) -> tuple[Path, Path]:
    """Train pairs on the first 8 words, held-out pairs on the other 4."""
    return write_jsonl(root / "train.jsonl", pairs(WORDS[:8])), write_jsonl(root / "held.jsonl", pairs(WORDS[8:]))
