"""Generate the task library's data: eight small one-word-answer tasks, each with train and held-out sets.

Six tasks build the library of adapters (``build_library.py``); two more (``emotion``, ``animal``) are kept
out of it, as the "new task" that ``examples/compose/reproduce.py`` composes the library for. Every task
draws its items from one pool that is split once (every third item held out), so no phrase of a held-out
set appears in its training set; a test checks that. Deterministic: fixed seeds, no downloads.

    python examples/tasks/make_tasks.py     # rewrites <task>/train.jsonl and <task>/heldout.jsonl here
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).parent
LIBRARY = ("sentiment", "topic", "language", "yesno", "entity", "formality")
HELD_OUT_TASKS = ("emotion", "animal")

# task -> (prompt template, {answer: [items]}); each item becomes one record
TASKS: dict[str, tuple[str, dict[str, list[str]]]] = {
    "sentiment": (
        "Is this opinion positive or negative? {x}",
        {
            "positive": [
                "I loved every minute of it",
                "The service was outstanding",
                "What a charming little place",
                "This is my new favourite",
                "Everything worked like a dream",
                "The staff were so kind",
                "A truly brilliant performance",
                "I would happily go back",
                "It was great value",
                "The view took my breath away",
                "Such a pleasant afternoon",
                "Highly recommended to all",
            ],
            "negative": [
                "I hated every minute of it",
                "The service was appalling",
                "What a miserable little place",
                "This is the worst I have tried",
                "Nothing worked at all",
                "The staff were so rude",
                "A truly dreadful performance",
                "I will never go back",
                "It was a rip-off",
                "The room smelled of mould",
                "Such a wasted afternoon",
                "Avoid it at all costs",
            ],
        },
    ),
    "topic": (
        "Which topic is this about: sports, food, science or politics? {x}",
        {
            "sports": [
                "The striker scored twice in the final",
                "She won the marathon in record time",
                "The team lost on penalties",
                "He served three aces in a row",
                "The coach praised the defence",
                "The cyclist climbed the mountain stage",
            ],
            "food": [
                "Add the garlic and stir for a minute",
                "The soup needs more salt",
                "Bake the bread until golden",
                "The chef roasted the vegetables",
                "Whisk the eggs with sugar",
                "The curry was slow-cooked",
            ],
            "science": [
                "The telescope found a new exoplanet",
                "Cells divide by mitosis",
                "The experiment measured gravity",
                "Researchers sequenced the genome",
                "The particle decayed in microseconds",
                "Chemists synthesised a new polymer",
            ],
            "politics": [
                "The senate passed the budget bill",
                "The minister resigned after the vote",
                "Voters went to the polls on Sunday",
                "The party chose a new leader",
                "Parliament debated the tax reform",
                "The president signed the treaty",
            ],
        },
    ),
    "language": (
        "Which language is this sentence in: English, French, Spanish or German? {x}",
        {
            "English": [
                "The cat is sleeping on the sofa",
                "We are going to the market",
                "My brother likes apples",
                "The weather is nice today",
                "Where is the train station",
                "I read a book every week",
            ],
            "French": [
                "Le chat dort sur le canapé",
                "Nous allons au marché",
                "Mon frère aime les pommes",
                "Il fait beau aujourd'hui",
                "Où est la gare",
                "Je lis un livre chaque semaine",
            ],
            "Spanish": [
                "El gato duerme en el sofá",
                "Vamos al mercado",
                "A mi hermano le gustan las manzanas",
                "Hace buen tiempo hoy",
                "Dónde está la estación",
                "Leo un libro cada semana",
            ],
            "German": [
                "Die Katze schläft auf dem Sofa",
                "Wir gehen zum Markt",
                "Mein Bruder mag Äpfel",
                "Das Wetter ist heute schön",
                "Wo ist der Bahnhof",
                "Ich lese jede Woche ein Buch",
            ],
        },
    ),
    "yesno": (
        "Answer yes or no: {x}",
        {
            "yes": [
                "Is ice frozen water?",
                "Do birds have feathers?",
                "Is the sun a star?",
                "Can fish swim?",
                "Is Paris in France?",
                "Do humans need water?",
                "Is snow cold?",
                "Does a week have seven days?",
                "Is a triangle a shape?",
                "Do cows give milk?",
                "Is the ocean salty?",
                "Can people walk?",
            ],
            "no": [
                "Is fire cold?",
                "Do snakes have legs?",
                "Is the moon made of cheese?",
                "Can dogs fly?",
                "Is London in Spain?",
                "Do rocks breathe?",
                "Is sugar salty?",
                "Does a year have ten days?",
                "Is a circle square?",
                "Do fish climb trees?",
                "Is the desert wet?",
                "Can stones sing?",
            ],
        },
    ),
    "entity": (
        "What kind of entity is this: person, city or company? {x}",
        {
            "person": [
                "Albert Einstein",
                "Marie Curie",
                "William Shakespeare",
                "Frida Kahlo",
                "Nelson Mandela",
                "Ada Lovelace",
                "Leonardo da Vinci",
                "Serena Williams",
                "Charles Darwin",
            ],
            "city": ["Tokyo", "Paris", "Nairobi", "Buenos Aires", "Toronto", "Cairo", "Sydney", "Mumbai", "Berlin"],
            "company": [
                "Microsoft",
                "Toyota",
                "Nestlé",
                "Samsung",
                "Siemens",
                "Unilever",
                "Nintendo",
                "Boeing",
                "Spotify",
            ],
        },
    ),
    "formality": (
        "Is this sentence formal or informal? {x}",
        {
            "formal": [
                "I would be grateful for your assistance",
                "Please find the report attached",
                "We regret to inform you of the delay",
                "Kindly confirm your attendance",
                "I am writing to request information",
                "Thank you for your prompt reply",
                "We appreciate your patience in this matter",
                "Please accept my sincere apologies",
                "The meeting has been rescheduled",
                "I look forward to your response",
            ],
            "informal": [
                "hey whats up",
                "gonna grab some food lol",
                "cant make it sorry dude",
                "thx for the help mate",
                "lemme know when ur free",
                "omg that was so funny",
                "yo see ya later",
                "nah im good thanks",
                "wanna hang out tonight",
                "haha no way",
            ],
        },
    ),
    "emotion": (
        "Which emotion does this express: joy, anger or sadness? {x}",
        {
            "joy": [
                "I just got the job I wanted",
                "We are finally on holiday",
                "My best friend is visiting",
                "I passed the exam with top marks",
                "The baby smiled at me",
                "We won the lottery",
                "The sun is out and I feel great",
                "My team won the cup",
                "I finally finished my novel",
                "Our garden is full of flowers",
                "My sister is getting married",
            ],
            "anger": [
                "Someone scratched my car on purpose",
                "They cancelled my order without asking",
                "He lied to me again",
                "The neighbours are shouting all night",
                "I was overcharged twice",
                "They ignored my complaint",
                "My flight was cancelled with no reason",
                "He broke my phone",
                "The landlord kept my deposit",
                "She read my private messages",
                "They towed my car unfairly",
            ],
            "sadness": [
                "My old dog passed away",
                "I miss my family so much",
                "Nobody came to my party",
                "I lost my grandmother's ring",
                "We had to say goodbye",
                "I failed the exam again",
                "My best friend moved away",
                "The house feels empty now",
                "I sat alone on my birthday",
                "The old cinema closed forever",
                "My letters were never answered",
            ],
        },
    ),
    "animal": (
        "Is this animal a mammal, a bird or a fish? {x}",
        {
            "mammal": [
                "dog",
                "elephant",
                "horse",
                "tiger",
                "whale",
                "rabbit",
                "giraffe",
                "bear",
                "monkey",
                "zebra",
                "camel",
            ],
            "bird": [
                "eagle",
                "sparrow",
                "penguin",
                "parrot",
                "owl",
                "pigeon",
                "flamingo",
                "swan",
                "crow",
                "robin",
                "hawk",
            ],
            "fish": [
                "salmon",
                "tuna",
                "shark",
                "trout",
                "cod",
                "goldfish",
                "sardine",
                "carp",
                "herring",
                "mackerel",
                "pike",
            ],
        },
    ),
}


def split(items: list[str]) -> tuple[list[str], list[str]]:
    """Every third item goes to the held-out pool: the two pools never share a phrase."""
    return [x for i, x in enumerate(items) if i % 3 != 2], [x for i, x in enumerate(items) if i % 3 == 2]


def rows_for(task: str, part: str) -> list[dict]:
    template, pools = TASKS[task]
    rows = []
    for answer, items in pools.items():
        train, held = split(items)
        rows += [{"prompt": template.format(x=x), "completion": answer} for x in (train if part == "train" else held)]
    random.Random(f"{task}-{part}").shuffle(rows)
    return rows


def main(out_dir: Path = HERE) -> None:
    for task in TASKS:
        for part in ("train", "heldout"):
            path = out_dir / task / f"{part}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            rows = rows_for(task, part)
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
            print(f"{path}: {len(rows)} rows")


if __name__ == "__main__":
    main()
