"""Generate the shipped sentiment task: short reviews labelled with ONE word, positive or negative.

Why this task: the prompt is the bare review, with no instruction. The instruct base answers it
like a chat message (comments, advice, full sentences), so its exact match starts near zero; a small
LoRA visibly teaches the behaviour "reply with the one label word" and the label itself.
The sets are built from templates with a fixed seed; held-out reviews use subjects, opinion phrases and
closing remarks that never appear in training (no phrase is shared), so the adapter must generalise the
label rather than memorise the phrases.

    python examples/sentiment/make_data.py     # rewrites train.jsonl and eval.jsonl next to this file
"""

from __future__ import annotations

import json
import random
from pathlib import Path

PROMPT = "Review: {review}"
TRAIN_SUBJECTS = [
    "pasta",
    "hotel room",
    "phone",
    "movie",
    "concert",
    "book",
    "laptop",
    "coffee",
    "haircut",
    "flight",
    "sofa",
    "game",
    "museum",
    "bakery",
    "headphones",
    "jacket",
    "tour",
    "pizza",
    "camera",
    "train ride",
    "soup",
    "hike",
    "spa",
    "printer",
    "bike",
]
HELD_OUT_SUBJECTS = ["sushi", "taxi", "tablet", "play", "garden", "watch", "beach", "lecture", "burger", "gym"]
POSITIVE = [
    "was wonderful",
    "exceeded my expectations",
    "was worth every penny",
    "made my day",
    "was a pleasant surprise",
    "works perfectly",
    "was fantastic",
    "is the best I have had",
    "left me smiling",
    "was delightful",
]
NEGATIVE = [
    "was a waste of money",
    "broke after one day",
    "was terribly disappointing",
    "ruined my evening",
    "was cold and bland",
    "never worked properly",
    "was awful",
    "is the worst I have had",
    "left me angry",
    "was a complete mess",
]
EXTRAS = [
    "",
    " I would recommend it to friends.",
    " Never again.",
    " The staff said nothing.",
    " It took an hour.",
    " My sister agreed.",
]
HELD_OUT_POSITIVE = [
    "was simply superb",
    "felt like a real treat",
    "was better than I hoped",
    "was a joy",
    "impressed everyone at the table",
    "was lovely from start to finish",
    "is excellent value",
    "put me in a great mood",
]
HELD_OUT_NEGATIVE = [
    "was a total letdown",
    "fell apart within a week",
    "was overpriced and dull",
    "spoiled the whole trip",
    "tasted stale",
    "stopped working at once",
    "was dreadful",
    "made me regret coming",
]
HELD_OUT_EXTRAS = ["", " We paid cash.", " It rained all day.", " My colleague noticed it too."]


def _review(rng: random.Random, subject: str, label: str, held_out: bool = False) -> str:
    if held_out:
        phrase = rng.choice(HELD_OUT_POSITIVE if label == "positive" else HELD_OUT_NEGATIVE)
        return f"The {subject} {phrase}.{rng.choice(HELD_OUT_EXTRAS)}"
    phrase = rng.choice(POSITIVE if label == "positive" else NEGATIVE)
    extra = rng.choice(EXTRAS)
    if label == "positive" and extra == " Never again.":
        extra = ""
    if label == "negative" and extra == " I would recommend it to friends.":
        extra = ""
    return f"The {subject} {phrase}.{extra}"


def make_rows(subjects: list[str], n: int, seed: int, held_out: bool = False) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = "positive" if i % 2 == 0 else "negative"
        review = _review(rng, rng.choice(subjects), label, held_out)
        rows.append({"prompt": PROMPT.format(review=review), "completion": label})
    rng.shuffle(rows)
    return rows


def main(out_dir: Path = Path(__file__).parent) -> None:
    for name, subjects, n, seed, held in (
        ("train.jsonl", TRAIN_SUBJECTS, 300, 0, False),
        ("eval.jsonl", HELD_OUT_SUBJECTS, 50, 1, True),
    ):
        rows = make_rows(subjects, n, seed, held)
        (out_dir / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
        print(f"{out_dir / name}: {len(rows)} rows")


if __name__ == "__main__":
    main()
