"""Author declarations -> the names of the people who wrote an article.

Pages declare authors in many shapes: "By Jane Doe and John Roe", "Jane Doe, John Roe",
"Jane Doe (jane@example.com)", "Deutsche Welle (www.dw.com)", the publisher's own name.
``person_names`` turns them into a clean list: persons first, e-mail addresses and the
site's own name dropped, organisations kept only when no person is named.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

ORGANISATION_TYPES = {
    "Organization",
    "NewsMediaOrganization",
    "Corporation",
    "NGO",
    "GovernmentOrganization",
    "EducationalOrganization",
    "Brand",
}
PERSON_TYPES = {"Person"}

# "By", "Von", "Par", "Por", "Door", "Di", "Av", "Af", "Autor:", "Written by" ...
PREFIX = re.compile(
    r"^(?:(?:written|reported|text|story|words|posted)\s+)?"
    r"(?:by|von|par|por|door|av|af|autor(?:in)?|author|text|texte)"
    r"(?:\s*:\s*|\s+)",
    re.IGNORECASE,
)
SPLIT = re.compile(
    r"\s*(?:;|\||/|\s&\s|\band\b|\bund\b|\bet\b|(?-i:\by\b|\be\b)|\bog\b"
    r"|\bsowie\b|\bwith\b|\bmit\b)\s*",
    re.IGNORECASE,
)
EMAIL = re.compile(r"\S+@\S+\.\w+")
URL = re.compile(r"\(?\b(?:https?://|www\.)\S+\)?|\(\s*\)")
ORGANISATION = re.compile(
    r"\b(?:GmbH|AG|Inc|Ltd|LLC|LLP|plc|KG|Corp|Company|Co|Group|Media|Medien|"
    r"Verlag|Press|Presse|News|Newsroom|Nachrichten|Agency|Agentur|Redaktion|Editorial|"
    r"Editors|Staff|Desk|Team|Network|Broadcasting|Radio|TV|Television|Times|Post|Journal|"
    r"Magazine|Tribune|Herald|Gazette|Daily|Online|Digital|Publishing|Publications|"
    r"Associated|Reuters|AFP|dpa|AP|ANSA|EFE|Nast|Welle)\b\.?",
    re.IGNORECASE,
)
# Words a byline search picks up around the name: labels, dates, links.
NOT_A_NAME = re.compile(
    r"^(?:auteurs?|autor(?:en|in)?|authors?|by|von|lesedauer|see full bio|full bio|"
    r"updated|published|posted|staff|admin|redaktion|no author|anonymous|unknown|"
    r"link copied|view author archive.*|more stories by.*)$",
    re.IGNORECASE,
)
MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
TRAILING_DATE = re.compile(
    rf"\s+(?:(?:updated|published|posted)\b.*|(?:{MONTHS})\b.*|\d.*"
    r"|link copied.*|view author archive.*|more stories by.*)$",
    re.IGNORECASE,
)
DOMAIN = re.compile(r"\b[\w-]+\.[a-z]{2,6}\b")
TRAILING_ROLE = re.compile(
    r"\s*[,\-–|]\s*(?:senior |chief |staff |special )?"
    r"(?:reporter|correspondent|editor|writer|columnist|contributor|"
    r"journalist|redakteur(?:in)?|korrespondent(?:in)?)\b.*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Byline:
    """One declared author: the text as declared and its schema.org type, if known."""

    text: str
    kind: str | None


def person_names(declared: list[Byline], site_names: set[str]) -> tuple[str, ...]:
    """The distinct names in ``declared``: persons first, then (only when no person is
    named) organisations; e-mails, URLs and the site's own name dropped."""
    site = {_key(name) for name in site_names}
    persons: list[str] = []
    organisations: list[str] = []
    seen: set[str] = set()
    for byline in declared:
        for name in split_byline(byline.text):
            key = _key(name)
            if not key or key in seen or key in site or _is_site(key, site):
                continue
            seen.add(key)
            organisation = byline.kind in ORGANISATION_TYPES or (
                byline.kind not in PERSON_TYPES and is_organisation(name)
            )
            (organisations if organisation else persons).append(name)
    return tuple(persons or organisations)


def split_byline(text: str) -> list[str]:
    """ "By Jane Doe and John Roe" -> ["Jane Doe", "John Roe"]."""
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    text = URL.sub(" ", EMAIL.sub(" ", text))
    text = PREFIX.sub("", text.strip(" ,;:|-–"))
    names = []
    for part in SPLIT.split(text):
        names.extend(_split_commas(part))
    return [name for raw in names if (name := _clean(raw))]


def is_organisation(name: str) -> bool:
    return (
        bool(ORGANISATION.search(name))
        or DOMAIN.search(name) is not None
        or (name.isupper() and len(name) <= 6)
    )


def _split_commas(part: str) -> list[str]:
    """ "Jane Doe, John Roe" is two people; "Doe, Jane" is one, written surname first."""
    if TRAILING_ROLE.search(part):
        part = TRAILING_ROLE.sub("", part)
    pieces = [piece.strip() for piece in part.split(",") if piece.strip()]
    if len(pieces) > 1 and is_organisation(pieces[0]):
        return pieces[:1]  # "Süddeutsche.de GmbH, Munich, Germany": its address
    if any(len(piece.split()) >= 2 for piece in pieces):
        # "Markus Balser, Berlin": a one-word part beside a full name is a dateline.
        return [piece for piece in pieces if len(piece.split()) >= 2]
    if (
        len(pieces) == 2
        and all(len(piece.split()) == 1 for piece in pieces)
        and not any(is_organisation(piece) for piece in pieces)
    ):
        return [f"{pieces[1]} {pieces[0]}"]
    return pieces


def _clean(name: str) -> str | None:
    name = TRAILING_DATE.sub("", TRAILING_ROLE.sub("", name))
    name = PREFIX.sub("", name.strip(" ,;:|-–()[]\"'"))
    name = " ".join(name.split()).strip(" ,;:|-–()[]\"'")
    if not name or not any(ch.isalpha() for ch in name) or len(name) > 80 or NOT_A_NAME.match(name):
        return None
    return name


def _key(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def _is_site(key: str, site: set[str]) -> bool:
    """ "POLITICO Staff", "dw.com": a name that is the site's own, with a word added."""
    return any(
        len(name) >= 4 and key.startswith(name) and len(key) - len(name) <= 6 for name in site
    )
