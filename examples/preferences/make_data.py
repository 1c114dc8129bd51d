"""Write the preference pairs: train.jsonl (geography, animals, food, the human body, everyday science)
and heldout.jsonl (astronomy, music, sport, history, technology): different subjects, not reworded rows.

The preference taught is following the asked-for answer form. Each prompt ends with one of two
instructions, "Answer in one word." or "Answer in a full sentence.", alternating row by row; the chosen
answer follows it and the rejected one is the other form of the same correct fact. Half the pairs prefer
the short answer and half the long one, so no fixed habit (a greeting, a length, a prefix) scores above
0.5: a model gains only by reading the instruction in each prompt. The base model starts near chance.

    python examples/preferences/make_data.py    # rewrites both files deterministically
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent

ONE_WORD = "Answer in one word."
SENTENCE = "Answer in a full sentence."

TRAIN = [
    # geography
    ("What is the capital of France?", "Paris.", "The capital of France is Paris."),
    ("What is the longest river in Africa?", "Nile.", "The Nile is the longest river in Africa."),
    ("Which ocean is the largest?", "Pacific.", "The Pacific is the largest ocean."),
    ("What is the capital of Japan?", "Tokyo.", "The capital of Japan is Tokyo."),
    ("On which continent is Brazil?", "South America.", "Brazil is in South America."),
    ("What is the highest mountain on Earth?", "Everest.", "Mount Everest is the highest mountain on Earth."),
    ("What is the capital of Canada?", "Ottawa.", "The capital of Canada is Ottawa."),
    ("Which desert is the largest hot desert?", "Sahara.", "The Sahara is the largest hot desert."),
    # animals
    ("How many legs does a spider have?", "Eight.", "A spider has eight legs."),
    ("What do bees make?", "Honey.", "Bees make honey."),
    ("Which animal is the largest on Earth?", "Whale.", "The blue whale is the largest animal on Earth."),
    ("What is a baby cat called?", "Kitten.", "A baby cat is called a kitten."),
    ("Do penguins fly?", "No.", "No, penguins cannot fly; they swim."),
    ("What do cows eat?", "Grass.", "Cows mostly eat grass."),
    ("How many hearts does an octopus have?", "Three.", "An octopus has three hearts."),
    ("What is a group of wolves called?", "Pack.", "A group of wolves is called a pack."),
    # food
    ("What is guacamole made from?", "Avocado.", "Guacamole is made from avocado."),
    ("Which grain is used to make risotto?", "Rice.", "Risotto is made with rice."),
    ("What gives bread its rise?", "Yeast.", "Yeast makes bread rise."),
    ("Which fruit is dried to make raisins?", "Grapes.", "Raisins are dried grapes."),
    ("What is tofu made from?", "Soybeans.", "Tofu is made from soybeans."),
    ("What is the main ingredient of hummus?", "Chickpeas.", "Hummus is mainly chickpeas."),
    ("Which country is sushi from?", "Japan.", "Sushi comes from Japan."),
    ("What is butter made from?", "Cream.", "Butter is made from cream."),
    # the human body
    ("How many bones does an adult human have?", "206.", "An adult human has 206 bones."),
    ("Which organ pumps blood?", "Heart.", "The heart pumps blood."),
    ("What is the largest organ of the body?", "Skin.", "The skin is the largest organ of the body."),
    ("Which organ do we breathe with?", "Lungs.", "We breathe with the lungs."),
    ("How many teeth does an adult usually have?", "32.", "An adult usually has 32 teeth."),
    ("What carries oxygen in the blood?", "Haemoglobin.", "Haemoglobin in red blood cells carries oxygen."),
    # everyday science
    (
        "At what temperature in Celsius does water boil at sea level?",
        "100.",
        "Water boils at 100 degrees Celsius at sea level.",
    ),
    ("What gas do plants take in?", "CO2.", "Plants take in carbon dioxide."),
    ("What is ice made of?", "Water.", "Ice is frozen water."),
    ("What makes a rainbow?", "Sunlight.", "Sunlight bent by raindrops makes a rainbow."),
    ("Which metal in a fridge door do magnets stick to?", "Iron.", "Magnets stick to the iron in the fridge door."),
    ("What is the chemical symbol for gold?", "Au.", "The chemical symbol for gold is Au."),
    ("What force pulls things to the ground?", "Gravity.", "Gravity pulls things to the ground."),
    ("At what temperature in Celsius does water freeze?", "Zero.", "Water freezes at 0 degrees Celsius."),
    ("Which element besides chlorine is in table salt?", "Sodium.", "Table salt is sodium chloride."),
    ("What do we call water vapour turning back into liquid?", "Condensation.", "That is called condensation."),
]

HELD_OUT = [
    # astronomy
    ("Which planet is closest to the Sun?", "Mercury.", "Mercury is the closest planet to the Sun."),
    ("What is the largest planet?", "Jupiter.", "Jupiter is the largest planet."),
    ("What is the Moon made of?", "Rock.", "The Moon is made of rock."),
    ("Which planet has the famous rings?", "Saturn.", "Saturn has the famous rings."),
    # music
    ("How many strings does a violin have?", "Four.", "A violin has four strings."),
    ("How many keys does a piano have?", "88.", "A piano has 88 keys."),
    ("Who composed the Moonlight Sonata?", "Beethoven.", "Beethoven composed the Moonlight Sonata."),
    (
        "Which instrument has a bow and is larger than a violin?",
        "Cello.",
        "The cello is played with a bow and is larger.",
    ),
    # sport
    (
        "How many players does a football team have on the pitch?",
        "Eleven.",
        "A football team has eleven players on the pitch.",
    ),
    ("How often, in years, are the Summer Olympics held?", "Four.", "The Summer Olympics are held every four years."),
    ("In which sport is a shuttlecock used?", "Badminton.", "A shuttlecock is used in badminton."),
    ("How long is a marathon in kilometres?", "42.", "A marathon is about 42 kilometres."),
    # history and technology
    ("Who was the first person on the Moon?", "Armstrong.", "Neil Armstrong was the first person on the Moon."),
    ("In which year did the Second World War end?", "1945.", "The Second World War ended in 1945."),
    ("Who invented the telephone?", "Bell.", "Alexander Graham Bell is credited with inventing the telephone."),
    ("What does a CPU process?", "Instructions.", "A CPU processes the instructions of a program."),
]


def rows(items: list[tuple[str, str, str]], shift: int = 0) -> list[dict]:
    """Alternate the instruction row by row; the chosen answer is the form it asks for."""
    out = []
    for i, (question, word, sentence) in enumerate(items):
        short = (i + shift) % 2 == 0
        instruction = ONE_WORD if short else SENTENCE
        chosen, rejected = (word, sentence) if short else (sentence, word)
        out.append({"prompt": f"{question} {instruction}", "chosen": chosen, "rejected": rejected})
    return out


def write(path: Path, data: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in data), encoding="utf-8")


if __name__ == "__main__":
    write(HERE / "train.jsonl", rows(TRAIN))
    write(HERE / "heldout.jsonl", rows(HELD_OUT, shift=1))
    print(f"wrote {len(TRAIN)} training and {len(HELD_OUT)} held-out pairs to {HERE}")
