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
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.matching import TopicDefinition, TopicMatcher


def words(text: str) -> list[str]:
    return text.split()


FUNCTION_WORDS = words(
    """
the of and to in a is that for on said with was as by at from it has have be are
his her their its not but an this which will were been after also had more who
would up over about new other than into two last year years
"""
)
CONTENT_WORDS = words(
    """
government minister
president people officials state country police city week month told statement
percent market prices economy trade talks meeting security military forces troops
border election vote parliament party leader leaders policy plan deal agreement
support against between during while before under since could should may might
report reports news public health budget energy gas oil power climate water
company companies workers jobs bank banks interest rates inflation growth
international national regional local foreign defence defense war peace ceasefire
attack attacks killed injured court judge law rights group groups council members
committee spokesman spokeswoman according sources agency press conference visit
capital region north south east west central announced
says added warned called expected continue continued began early late first second
third later today yesterday tomorrow morning evening night hours days weeks months
decision decisions issue issues crisis response aid funding billion million dollars
euros tax taxes cuts spending debt investors shares stocks exports imports tariffs
negotiations summit allies alliance sanctions pressure threat threats risk risks
community residents families children students schools hospital hospitals doctors
"""
)

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

SYLLABLES = words("ka lo mi ren dor vas tel qui bran sol nor vek zan pol ira ost umb eth yar")
WORD_SYLLABLES = words("ba de fi gor hu le ma nis ot pra ri sen ta ul ver wo con ment ing ter")
RARE_WORDS = 2000


def vocabulary(seed: int) -> list[str]:
    """Words by falling frequency: function words, then content and rarer words mixed.

    The content words (the ones topics use as context) are spread over the ranks
    of a long tail of generated English-like words, as real content words are.
    """
    rng = random.Random(seed)
    rare: set[str] = set()
    while len(rare) < RARE_WORDS:
        rare.add("".join(rng.choice(WORD_SYLLABLES) for _ in range(rng.randint(2, 3))))
    tail = sorted(rare - set(CONTENT_WORDS)) + CONTENT_WORDS
    rng.shuffle(tail)
    return FUNCTION_WORDS + tail


def fake_name(rng: random.Random) -> str:
    """A capitalised name that never occurs in the generated texts."""
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize() + "x"


def sentence(rng: random.Random, lexicon: list[str], weights: list[float]) -> str:
    """8-24 Zipf-drawn words; some with a real name, commas, dashes, ’s or quotes."""
    tokens = rng.choices(lexicon, cum_weights=weights, k=rng.randint(8, 24))
    if rng.random() < 0.1:
        tokens.insert(rng.randrange(len(tokens)), rng.choice(ENTITIES))
    if rng.random() < 0.3:
        tokens[rng.randrange(1, len(tokens))] += rng.choice([",", ",", " —", "’s"])
    text = " ".join(tokens).capitalize() + rng.choice([".", ".", ".", "?", ":"])
    return f"“{text}”" if rng.random() < 0.15 else text


def article(rng: random.Random, lexicon: list[str], weights: list[float]) -> tuple[str, str]:
    """A headline and a 4-6 KB body of paragraphs."""
    title = sentence(rng, lexicon, weights).rstrip(".?:")[:90]
    target = rng.randint(4000, 6000)
    paragraphs: list[str] = []
    size = 0
    while size < target:
        paragraph = " ".join(sentence(rng, lexicon, weights) for _ in range(rng.randint(3, 6)))
        paragraphs.append(paragraph)
        size += len(paragraph) + 2
    return title, "\n\n".join(paragraphs)[:target]


def articles(count: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    lexicon = vocabulary(seed)
    weights = list(accumulate(1 / (rank + 1) for rank in range(len(lexicon))))  # Zipf
    return [article(rng, lexicon, weights) for _ in range(count)]


def name(rng: random.Random, real_share: float) -> str:
    """A topic's subject: mostly a name absent from the texts, sometimes a real one."""
    if rng.random() < real_share:
        entity = rng.choice(ENTITIES)
        return f'"{entity}"' if " " in entity else entity
    return fake_name(rng)


def query(rng: random.Random, real_share: float) -> str:
    """One query of nine kinds, evenly: word, phrase, OR, AND with context words, NOT,
    NEAR, prefix wildcard, title: group, exact-case acronym."""
    kind = rng.randrange(9)
    a, b = name(rng, real_share), name(rng, real_share)
    context = rng.choice(CONTENT_WORDS)
    if kind == 0:
        return a
    if kind == 1:
        return f'"{fake_name(rng)} {rng.choice(["Council", "Group", "Institute"])}"'
    if kind == 2:
        return f"{a} OR {b} OR {name(rng, real_share)}"
    if kind == 3:
        return f"{a} AND ({context} OR {rng.choice(CONTENT_WORDS)})"
    if kind == 4:
        return f'{a} NOT {context} NOT "{a.strip(chr(34))} {rng.choice(CONTENT_WORDS)}"'
    if kind == 5:
        return f"{a} NEAR/{rng.randint(3, 20)} {context}"
    if kind == 6:
        return fake_name(rng)[:6] + "*"
    if kind == 7:
        return f"title:({a} OR {b}) {context}"
    return f"={fake_name(rng).upper()[:5]} OR {a}"


def topics(count: int, seed: int, real_share: float = 0.005) -> list[TopicDefinition]:
    rng = random.Random(seed)
    result = []
    for i in range(count):
        queries = tuple(query(rng, real_share) for _ in range(rng.choice([1, 1, 1, 2, 3])))
        result.append(
            TopicDefinition(
                f"topic {i}",
                queries,
                case_sensitive=rng.random() < 0.03,
                fold_diacritics=rng.random() > 0.03,
            )
        )
    return result


def measure(
    sizes: list[int], docs: list[tuple[str, str]], seed: int, rounds: int, real_share: float
) -> list[dict[str, float]]:
    """Compile each topic set, then time full passes over the articles.

    Times are CPU time of this process.  The passes for the different sizes are
    interleaved and each size keeps its fastest, which filters out most noise from
    other work on the machine.
    """
    rows = []
    for size in sizes:
        definitions = topics(size, seed, real_share)
        started = time.process_time()
        matcher = TopicMatcher.compile(definitions)
        compile_seconds = time.process_time() - started
        matches = sum(len(matcher.match(title, text)) for title, text in docs)
        rows.append(
            {
                "topics": size,
                "compile": compile_seconds,
                "matcher": matcher,
                "matches": matches / len(docs),
                "per_article": float("inf"),
            }
        )
    for _ in range(rounds):
        for row in rows:
            match = row["matcher"].match
            started = time.process_time()
            for title, text in docs:
                match(title, text)
            elapsed = (time.process_time() - started) / len(docs)
            row["per_article"] = min(row["per_article"], elapsed)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000, help="articles to generate")
    parser.add_argument("--sizes", default="10,100,1000,10000", help="topic counts to try")
    parser.add_argument("--seed", type=int, default=20250101, help="random seed")
    parser.add_argument("--rounds", type=int, default=5, help="timed passes per size")
    parser.add_argument(
        "--real-share",
        type=float,
        default=0.005,
        help="share of topic names that are real names occurring in the texts",
    )
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    docs = articles(args.articles, args.seed)
    average = sum(len(t) + len(x) for t, x in docs) / len(docs)
    print(f"{len(docs)} articles, {average / 1000:.1f} KB of text each on average")
    print(f"best of {args.rounds} passes per size\n")
    print("| topics | compile s | articles/s | µs/article | matches/article | vs first |")
    print("|-------:|----------:|-----------:|-----------:|----------------:|---------:|")
    rows = measure(sizes, docs, args.seed, args.rounds, args.real_share)
    baseline = rows[0]["per_article"]
    for row in rows:
        print(
            f"| {row['topics']:,} | {row['compile']:.3f} | {1 / row['per_article']:,.0f} "
            f"| {row['per_article'] * 1e6:,.0f} | {row['matches']:.2f} "
            f"| {row['per_article'] / baseline:.2f}x |"
        )


if __name__ == "__main__":
    main()
