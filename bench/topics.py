"""Benchmark topic matching: per-article cost as the number of topics grows.

Generates seeded news-like articles (~4-6 KB of text from a fixed vocabulary plus a
few real topic words) and generated topics of mixed kinds (words, phrases, boolean,
NEAR, wildcards, title:, exact case), mostly about names that never occur in the
texts, some about names that do.  Each topic set is compiled once and matched
against every article; the table shows compile time, throughput and the per-article
time relative to the smallest topic set.

    python bench/topics.py --articles 1000 --sizes 10,100,1000,10000
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.topics import TopicDefinition, TopicMatcher  # noqa: E402

VOCABULARY = """
the of and to in a is that for on said with was as by at from it has have be are
his her their its not but an this which will were been after also had more who
would up over about new other than into two last year years government minister
president people officials state country police city week month told statement
percent market prices economy trade talks meeting security military forces troops
border election vote parliament party leader leaders policy plan deal agreement
support against between during while before under since could should may might
report reports news public health budget energy gas oil power climate water
company companies workers jobs bank banks interest rates inflation growth
international national regional local foreign defence defense war peace ceasefire
attack attacks killed injured court judge law rights group groups council members
committee spokesman spokeswoman according sources agency press conference visit
capital region north south east west central officials announced announced said
says added warned called expected continue continued began early late first second
third later today yesterday tomorrow morning evening night hours days weeks months
decision decisions issue issues crisis response aid funding billion million dollars
euros tax taxes cuts spending debt investors shares stocks exports imports tariffs
negotiations summit allies alliance sanctions pressure threat threats risk risks
community residents families children students schools hospital hospitals doctors
""".split()

ENTITIES = [
    "Greenland",
    "NATO",
    "Ukraine",
    "Ukrainian",
    "Trump",
    "Zelensky",
    "Brussels",
    "Denmark",
    "Copenhagen",
    "Kyiv",
    "Moscow",
    "Russia",
    "Putin",
    "Macron",
    "Scholz",
    "Berlin",
    "Paris",
    "London",
    "Starmer",
    "Beijing",
    "Washington",
    "Pentagon",
    "Kremlin",
    "Gaza",
    "Israel",
    "Netanyahu",
    "Iran",
    "Tehran",
    "Syria",
    "Turkey",
    "Erdogan",
    "Poland",
    "Warsaw",
    "Tusk",
    "Orban",
    "Hungary",
    "Meloni",
    "Rome",
    "European Union",
    "White House",
    "United Nations",
    "European Commission",
    "coalition of the willing",
    "Security Council",
    "Federal Reserve",
    "Wall Street",
    "Grønland",
    "Zürich",
    "São Paulo",
    "Łódź",
    "НАТО",
    "Україна",
    "Київ",
    "Arctic",
    "OPEC",
    "IMF",
    "G7",
    "Davos",
    "Nuuk",
    "Frederiksen",
    "Egede",
    "Rutte",
]

SYLLABLES = "ka lo mi ren dor vas tel qui bran sol nor vek zan pol ira ost umb eth yar".split()


def fake_name(rng: random.Random) -> str:
    """A capitalised name that never occurs in the generated texts."""
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize() + "x"


def sentence(rng: random.Random, weights: list[float]) -> str:
    words = rng.choices(VOCABULARY, weights=weights, k=rng.randint(8, 24))
    if rng.random() < 0.1:
        words.insert(rng.randrange(len(words)), rng.choice(ENTITIES))
    if rng.random() < 0.3:
        words[rng.randrange(1, len(words))] += ","
    return " ".join(words).capitalize() + rng.choice([".", ".", ".", "?", ":"])


def article(rng: random.Random, weights: list[float]) -> tuple[str, str]:
    """A headline and a 4-6 KB body of paragraphs."""
    title = sentence(rng, weights).rstrip(".?:")[:90]
    target = rng.randint(4000, 6000)
    paragraphs: list[str] = []
    size = 0
    while size < target:
        paragraph = " ".join(sentence(rng, weights) for _ in range(rng.randint(3, 6)))
        paragraphs.append(paragraph)
        size += len(paragraph) + 2
    return title, "\n\n".join(paragraphs)[:target]


def articles(count: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(VOCABULARY))]  # Zipf-like
    return [article(rng, weights) for _ in range(count)]


def name(rng: random.Random) -> str:
    """A topic's subject: mostly a name absent from the texts, sometimes a real one."""
    if rng.random() < 0.02:
        entity = rng.choice(ENTITIES)
        return f'"{entity}"' if " " in entity else entity
    return fake_name(rng)


def query(rng: random.Random) -> str:
    kind = rng.randrange(9)
    a, b = name(rng), name(rng)
    context = rng.choice(VOCABULARY[40:])
    if kind == 0:
        return a
    if kind == 1:
        return f'"{fake_name(rng)} {rng.choice(["Council", "Group", "Institute"])}"'
    if kind == 2:
        return f"{a} OR {b} OR {name(rng)}"
    if kind == 3:
        return f"{a} AND ({context} OR {rng.choice(VOCABULARY[40:])})"
    if kind == 4:
        return f'{a} NOT {context} NOT "{a.strip(chr(34))} {rng.choice(VOCABULARY[40:])}"'
    if kind == 5:
        return f"{a} NEAR/{rng.randint(3, 20)} {context}"
    if kind == 6:
        return fake_name(rng)[:6] + "*"
    if kind == 7:
        return f"title:({a} OR {b}) {context}"
    return f"={fake_name(rng).upper()[:5]} OR {a}"


def topics(count: int, seed: int) -> list[TopicDefinition]:
    rng = random.Random(seed)
    result = []
    for i in range(count):
        queries = tuple(query(rng) for _ in range(rng.choice([1, 1, 1, 2, 3])))
        result.append(
            TopicDefinition(
                f"topic {i}",
                queries,
                case_sensitive=rng.random() < 0.03,
                fold_diacritics=rng.random() > 0.03,
            )
        )
    return result


def measure(size: int, docs: list[tuple[str, str]], seed: int, min_seconds: float) -> dict:
    started = time.perf_counter()
    matcher = TopicMatcher.compile(topics(size, seed))
    compile_seconds = time.perf_counter() - started
    rounds = 0
    matches = 0
    started = time.perf_counter()
    while True:
        for title, text in docs:
            matches += len(matcher.match(title, text))
        rounds += 1
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds:
            break
    per_article = elapsed / (rounds * len(docs))
    return {
        "topics": size,
        "compile": compile_seconds,
        "per_article": per_article,
        "matches": matches / (rounds * len(docs)),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000, help="articles to generate")
    parser.add_argument("--sizes", default="10,100,1000,10000", help="topic counts to try")
    parser.add_argument("--seed", type=int, default=20250101, help="random seed")
    parser.add_argument(
        "--min-seconds", type=float, default=2.0, help="match for at least this long per size"
    )
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    docs = articles(args.articles, args.seed)
    average = sum(len(t) + len(x) for t, x in docs) / len(docs)
    print(f"{len(docs)} articles, {average / 1000:.1f} KB of text each on average\n")
    print("| topics | compile s | articles/s | µs/article | matches/article | vs first |")
    print("|-------:|----------:|-----------:|-----------:|----------------:|---------:|")
    baseline = None
    for size in sizes:
        row = measure(size, docs, args.seed, args.min_seconds)
        baseline = baseline or row["per_article"]
        print(
            f"| {size} | {row['compile']:.3f} | {1 / row['per_article']:,.0f} "
            f"| {row['per_article'] * 1e6:,.0f} | {row['matches']:.2f} "
            f"| {row['per_article'] / baseline:.2f}x |"
        )


if __name__ == "__main__":
    main()
