"""Generate the shipped sentiment task: short reviews labelled with ONE word, positive or negative.

Why this task: the prompt is the bare review, with no instruction. The instruct base answers it
like a chat message (comments, advice, full sentences), so its exact match starts near zero; a small
LoRA visibly teaches the behaviour "reply with the one label word" and the label itself.
The sets are built from templates with a fixed seed; held-out reviews use subjects that never
appear in training, so the adapter must generalise rather than memorise.

    python examples/sentiment/make_data.py     # rewrites train.jsonl and eval.jsonl next to this file
"""

from __future__ import annotations

import json
import random
from pathlib import Path

PROMPT = "Review: {review}"
TRAIN_SUBJECTS = ["pasta", "hotel room", "phone", "movie", "concert", "book", "laptop", "coffee", "haircut",
                  "flight", "sofa", "game", "museum", "bakery", "headphones", "jacket", "tour", "pizza",
                  "camera", "train ride", "soup", "hike", "spa", "printer", "bike"]
HELD_OUT_SUBJECTS = ["sushi", "taxi", "tablet", "play", "garden", "watch", "beach", "lecture", "burger", "gym"]
POSITIVE = ["was wonderful", "exceeded my expectations", "was worth every penny", "made my day",
            "was a pleasant surprise", "works perfectly", "was fantastic", "is the best I have had",
            "left me smiling", "was delightful"]
NEGATIVE = ["was a waste of money", "broke after one day", "was terribly disappointing", "ruined my evening",
            "was cold and bland", "never worked properly", "was awful", "is the worst I have had",
            "left me angry", "was a complete mess"]
EXTRAS = ["", " I would recommend it to friends.", " Never again.", " The staff said nothing.",
          " It took an hour.", " My sister agreed."]


def _review(rng: random.Random, subject: str, label: str) -> str:
    phrase = rng.choice(POSITIVE if label == "positive" else NEGATIVE)
    extra = rng.choice(EXTRAS)
    if label == "positive" and extra == " Never again.":
        extra = ""
    if label == "negative" and extra == " I would recommend it to friends.":
        extra = ""
    return f"The {subject} {phrase}.{extra}"


def make_rows(subjects: list[str], n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = "positive" if i % 2 == 0 else "negative"
        review = _review(rng, rng.choice(subjects), label)
        rows.append({"prompt": PROMPT.format(review=review), "completion": label})
    rng.shuffle(rows)
    return rows


def main(out_dir: Path = Path(__file__).parent) -> None:
    for name, subjects, n, seed in (("train.jsonl", TRAIN_SUBJECTS, 300, 0), ("eval.jsonl", HELD_OUT_SUBJECTS, 50, 1)):
        rows = make_rows(subjects, n, seed)
        (out_dir / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
        print(f"{out_dir / name}: {len(rows)} rows")


if __name__ == "__main__":
    main()
