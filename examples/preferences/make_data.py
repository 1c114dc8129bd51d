"""Write the preference pairs: train.jsonl (geography, animals, food, the human body, everyday science)
and heldout.jsonl (astronomy, music, sport, history, technology): different subjects, not reworded rows.

The preference taught is a house style: an answer opens with a friendly "Happy to help!" before the fact
("chosen"), instead of the bare fact ("rejected"). Both carry the same correct fact, so the pairs
differ only in the style, and a base language model (which gives the shorter bare answer the higher
likelihood) starts far from preferring it.

    python examples/preferences/make_data.py    # rewrites both files deterministically
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent

OPENERS = ("Happy to help!",)

TRAIN = [
    # geography
    ("What is the capital of France?", "The capital of France is Paris."),
    ("What is the longest river in Africa?", "The Nile is the longest river in Africa."),
    ("Which ocean is the largest?", "The Pacific is the largest ocean."),
    ("What is the capital of Japan?", "The capital of Japan is Tokyo."),
    ("On which continent is Brazil?", "Brazil is in South America."),
    ("What is the highest mountain on Earth?", "Mount Everest is the highest mountain on Earth."),
    ("What is the capital of Canada?", "The capital of Canada is Ottawa."),
    ("Which desert is the largest hot desert?", "The Sahara is the largest hot desert."),
    # animals
    ("How many legs does a spider have?", "A spider has eight legs."),
    ("What do bees make?", "Bees make honey."),
    ("Which animal is the largest on Earth?", "The blue whale is the largest animal on Earth."),
    ("What is a baby cat called?", "A baby cat is called a kitten."),
    ("Do penguins fly?", "No, penguins cannot fly; they swim."),
    ("What do cows eat?", "Cows mostly eat grass."),
    ("How many hearts does an octopus have?", "An octopus has three hearts."),
    ("What is a group of wolves called?", "A group of wolves is called a pack."),
    # food
    ("What is guacamole made from?", "Guacamole is made from avocado."),
    ("Which grain is used to make risotto?", "Risotto is made with rice."),
    ("What gives bread its rise?", "Yeast makes bread rise."),
    ("Which fruit is dried to make raisins?", "Raisins are dried grapes."),
    ("What is tofu made from?", "Tofu is made from soybeans."),
    ("What is the main ingredient of hummus?", "Hummus is mainly chickpeas."),
    ("Which country is sushi from?", "Sushi comes from Japan."),
    ("What is butter made from?", "Butter is made from cream."),
    # the human body
    ("How many bones does an adult human have?", "An adult human has 206 bones."),
    ("Which organ pumps blood?", "The heart pumps blood."),
    ("What is the largest organ of the body?", "The skin is the largest organ of the body."),
    ("Which organ do we breathe with?", "We breathe with the lungs."),
    ("How many teeth does an adult usually have?", "An adult usually has 32 teeth."),
    ("What carries oxygen in the blood?", "Red blood cells carry oxygen."),
    # everyday science
    ("At what temperature does water boil at sea level?", "Water boils at 100 degrees Celsius at sea level."),
    ("What gas do plants take in?", "Plants take in carbon dioxide."),
    ("What is ice made of?", "Ice is frozen water."),
    ("What makes a rainbow?", "Sunlight bent by raindrops makes a rainbow."),
    ("Why do magnets stick to a fridge?", "The fridge door contains iron, which magnets attract."),
    ("What is the chemical symbol for gold?", "The chemical symbol for gold is Au."),
    ("What force pulls things to the ground?", "Gravity pulls things to the ground."),
    ("What is the freezing point of water?", "Water freezes at 0 degrees Celsius."),
    ("What is salt made of?", "Table salt is sodium chloride."),
    ("What do we call water vapour turning back into liquid?", "That is called condensation."),
]

HELD_OUT = [
    # astronomy
    ("Which planet is closest to the Sun?", "Mercury is the closest planet to the Sun."),
    ("What is the largest planet?", "Jupiter is the largest planet."),
    ("What is the Moon made of?", "The Moon is made of rock."),
    ("Which planet has the famous rings?", "Saturn has the famous rings."),
    # music
    ("How many strings does a violin have?", "A violin has four strings."),
    ("How many keys does a piano have?", "A piano has 88 keys."),
    ("Who composed the Moonlight Sonata?", "Beethoven composed the Moonlight Sonata."),
    ("Which instrument has a bow and is larger than a violin?", "The cello is played with a bow and is larger."),
    # sport
    ("How many players does a football team have on the pitch?", "A football team has eleven players on the pitch."),
    ("How often are the Summer Olympics held?", "The Summer Olympics are held every four years."),
    ("In which sport is a shuttlecock used?", "A shuttlecock is used in badminton."),
    ("How long is a marathon?", "A marathon is about 42 kilometres."),
    # history and technology
    ("Who was the first person on the Moon?", "Neil Armstrong was the first person on the Moon."),
    ("In which year did the Second World War end?", "The Second World War ended in 1945."),
    ("Who invented the telephone?", "Alexander Graham Bell is credited with inventing the telephone."),
    ("What does CPU stand for?", "CPU stands for central processing unit."),
]


def rows(items: list[tuple[str, str]], shift: int = 0) -> list[dict]:
    return [{"prompt": q, "chosen": f"{OPENERS[(i + shift) % len(OPENERS)]} {a}", "rejected": a}
            for i, (q, a) in enumerate(items)]


def write(path: Path, data: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in data), encoding="utf-8")


if __name__ == "__main__":
    write(HERE / "train.jsonl", rows(TRAIN))
    write(HERE / "heldout.jsonl", rows(HELD_OUT, shift=1))
    print(f"wrote {len(TRAIN)} training and {len(HELD_OUT)} held-out pairs to {HERE}")
