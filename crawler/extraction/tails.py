"""The promotional lines outlets append to every article, dropped from the end of its text.

Extraction often keeps what follows the last paragraph inside the article element:
"Follow us on Twitter", newsletter and app promotions, "Read more:" lists of other
headlines, photo credits, copyright lines. They are not the article: a topic named only
there is not a mention, and a rotating "Read more" list is not an edit.

Only whole lines are dropped, and only at the end of the text: working back from the
last line, each line that is promotional as a whole goes, and the first line that is
not ends the tail. A sentence of the article is never cut, and a promotional-looking
line in the middle of the article stays. Patterns cover English, German, French,
Spanish, Italian, Dutch, Portuguese and Polish; each must match a whole line
(``re.fullmatch``, case-insensitive, after whitespace folding), and no line longer than
:data:`MAX_LINE_CHARS` is promotional.
"""

from __future__ import annotations

import re

MAX_LINE_CHARS = 250
# A "Read more" heading on a line of its own takes at most this many headline lines
# after it (short lines that do not end like a sentence).
MAX_LIST_LINES = 12
HEADLINE_MAX_CHARS = 150

_NETWORKS = (
    r"(?:twitter|x|facebook|instagram|linkedin|tiktok|youtube|threads|bluesky|mastodon"
    r"|telegram|whatsapp|snapchat|pinterest|google\s+news|flipboard|social\s+media"
    r"|sozialen\s+netzwerken|réseaux\s+sociaux|redes\s+sociales|social|sociais)"
)
_REST = r"(?:\b.{0,150})?"

_FOLLOW = (
    # en: "Follow us on Twitter", "Like us on Facebook", "Follow The Post on Instagram"
    rf"(?:please\s+)?(?:follow|like|join|find|connect\s+with|stay\s+connected\s+with)\s+us{_REST}",
    rf"follow\s+.{{1,60}}?\s+on\s+{_NETWORKS}{_REST}",
    rf"(?:folgen\s+sie|folge|folgt)\s+uns{_REST}",  # de
    rf"folgen\s+sie\s+.{{1,60}}?\s+(?:auf|bei)\s+{_NETWORKS}{_REST}",
    rf"(?:suivez|retrouvez|rejoignez)[- ]nous{_REST}",  # fr
    rf"(?:s[ií]guenos|s[ií]ganos|[úu]nete\s+a\s+nuestr[oa]s?){_REST}",  # es
    rf"(?:seguici|segui(?:teci)?\s+.{{1,60}}?\s+su\s+{_NETWORKS}){_REST}",  # it
    rf"(?:volg\s+ons|volg\s+.{{1,60}}?\s+op\s+{_NETWORKS}){_REST}",  # nl
    rf"(?:siga[- ]nos|siga\s+.{{1,60}}?\s+no\s+{_NETWORKS}){_REST}",  # pt
    rf"acompanhe\s+.{{1,60}}?\s+n[oa]s?\s+{_NETWORKS}{_REST}",
    rf"(?:obserwuj|śledź|polub)\s+nas{_REST}",  # pl
)
_NEWS = (
    r"(?:newsletters?|inbox|e-?mail|alerts?|briefing|digest|bulletin|nieuwsbrief|boletín"
    r"|boletim|lettre\s+d'information|infolettre|postfach|posteingang)"
)
_PROMOTE = (
    # en: newsletters and apps
    rf"(?:sign\s+up|subscribe|register|get\s+(?:our|the)\s+.{{0,40}}?{_NEWS})\b.{{0,60}}?{_NEWS}{_REST}",
    r"subscribe(?:\s+(?:now|today|here))?(?:\s+to\s+.{1,60})?[.!]?",
    rf"get\s+(?:the\s+)?(?:latest|breaking|top|our|daily).{{0,60}}?\b(?:inbox|e-?mail|newsletter|app){_REST}",
    rf"(?:download|get|install)\s+(?:the|our)\s+.{{0,40}}?\bapps?\b{_REST}",
    rf"for\s+(?:the\s+)?(?:latest|more|breaking|all)\b.{{0,100}}?\b(?:download|subscribe|sign\s+up|follow)\b{_REST}",
    r".{0,80}?\b(?:our|nuestro|nuestra|notre|unseren?|nostro|nosso|nasz)\s+(?:canal\s+de\s+|chaîne\s+)?"
    r"(?:youtube|telegram|whatsapp|instagram|tiktok)\b.{0,80}",
    # de
    rf"(?:abonnieren|bestellen|abonniere|bestelle)\s+(?:sie\s+)?.{{0,60}}?newsletter{_REST}",
    rf"(?:melden\s+sie\s+sich|melde\s+dich|jetzt|hier)\b.{{0,60}}?newsletter{_REST}",
    rf"(?:laden\s+sie|lade|holen\s+sie\s+sich)\b.{{0,60}}?\bapp\b{_REST}",
    rf".{{0,60}}?newsletter\s+(?:abonnieren|bestellen|anmelden){_REST}",
    # fr
    rf"(?:abonnez|inscrivez)[- ]vous{_REST}",
    rf"(?:t[ée]l[ée]chargez|recevez)\b.{{0,60}}?\b(?:application|appli|app|newsletter|{_NEWS}){_REST}",
    # es
    rf"(?:suscr[ií]bete|suscr[ií]base|reg[ií]strate){_REST}",
    rf"(?:rec[ií]be(?:lo)?|desc[aá]rga(?:te|la)?)\b.{{0,60}}?\b(?:{_NEWS}|app|aplicaci[oó]n){_REST}",
    # it
    rf"iscriviti{_REST}",
    rf"(?:scarica|ricevi)\b.{{0,60}}?\b(?:{_NEWS}|app){_REST}",
    # nl
    rf"(?:abonneer|schrijf|meld)\s+(?:je|u)\b{_REST}",
    rf"download\s+(?:de|onze)\b.{{0,40}}?\bapp\b{_REST}",
    # pt
    rf"(?:inscreva[- ]se|cadastre[- ]se){_REST}",
    rf"(?:assine|receba|baixe)\b.{{0,60}}?\b(?:{_NEWS}|app|aplicativo){_REST}",
    # pl
    rf"(?:zapisz\s+się|subskrybuj|zasubskrybuj){_REST}",
    rf"pobierz\b.{{0,60}}?\baplikacj{_REST}",
)
_READ_MORE = (
    r"read\s+more|read\s+also|also\s+read|see\s+also|related(?:\s+(?:articles?|stories|content"
    r"|coverage|reading))?|more\s+on\s+this(?:\s+story|\s+topic)?|more\s+from\s+.{1,40}?"
    r"|lesen\s+sie\s+(?:auch|mehr)|mehr\s+zum\s+thema|weiterlesen|auch\s+interessant"
    r"|à\s+lire\s+(?:aussi|également)|lire\s+aussi|lire\s+la\s+suite|sur\s+le\s+même\s+sujet"
    r"|lee\s+(?:también|además)|leer\s+más|te\s+puede\s+interesar|más\s+información"
    r"|leggi\s+anche|potrebbe\s+interessarti|lees\s+ook|meer\s+over\s+dit\s+onderwerp"
    r"|leia\s+(?:também|mais)|veja\s+também|saiba\s+mais|czytaj\s+(?:także|też|więcej)"
    r"|zobacz\s+(?:też|także)|przeczytaj\s+(?:też|także)|lea(?:\s+(?:también|además|más))?"
    r"|vea\s+también|mira|mire|le\s+puede\s+interesar|(?:notas|noticias)\s+relacionadas"
    r"|weitere\s+informationen\b.{0,80}?|more\s+information\b.{0,80}?"
    r"|tags|topics|temas|themen|schlagwörter|sujets|mots-clés|argomenti|onderwerpen|tópicos|tagi"
)
_READ_MORE_HEADING = re.compile(rf"(?:{_READ_MORE})\s*[:.…»>|-]*", re.IGNORECASE)
_CREDIT_WORD = (
    r"(?:photos?|pictures?|images?|videos?|graphics?|illustrations?|credits?|photograph(?:y|s)?"
    r"|(?:photo|image|picture)\s+credits?|foto(?:s|grafie|grafía|grafia)?|bild(?:er)?"
    r"|crédits?(?:\s+photos?)?|photos?\s*:\s*crédit|imagen(?:es)?|immagin[ei]|afbeelding"
    r"|beeld|zdjęci[ae]|fot\.|źródło|quelle|source|fuente|fonte|bron)"
)
_AGENCIES = (
    r"(?:getty\s+images|reuters|afp|ap(?:\s+photo)?|dpa|epa(?:-efe)?|efe|ansa|anp|shutterstock"
    r"|picture[- ]alliance|imago|keystone|belga|lusa|pap|istock(?:photo)?|alamy)"
)
_CREDIT = (
    r"fot\.\s*[^.!?]{1,80}",  # pl: "Fot. PAP"
    rf"\(?{_CREDIT_WORD}\s*(?:credit\s*)?[:©/|]\s*.{{1,120}}",
    rf"[^.!?]{{0,60}}?(?:(?:/\s*|©\s*){_AGENCIES}|\s+via\s+getty\s+images)\)?\.?",
)
_COPYRIGHT = (
    r"(?:©|\(c\)|copyright\s*(?:©|\(c\)|\d{4}|by\b)|tous\s+droits|todos\s+los\s+derechos|tutti\s+i"
    r"\s+diritti|alle\s+rechten|todos\s+os\s+direitos|wszelkie\s+prawa).{0,150}",
    r".{0,100}?\b(?:all\s+rights\s+reserved|alle\s+rechte\s+vorbehalten|droits\s+réservés"
    r"|derechos\s+reservados|riproduzione\s+riservata|direitos\s+reservados"
    r"|prawa\s+zastrzeżone)\b.{0,60}",
)
_SHARE = (
    r"(?:share|teilen|partager|partagez|compartir|comparte|condividi|delen|deel|compartilhe"
    r"|udostępnij)(?:\s+(?:this(?:\s+(?:article|story|page|post))?|on|via|auf|sur|en|su|op"
    r"|no|na|dit\s+artikel|cet\s+article|diesen\s+artikel|dieses)\b.{0,60})?[.:!]?",
)

_PROMO_LINE = re.compile(
    "|".join(f"(?:{p})" for p in (*_FOLLOW, *_PROMOTE, *_CREDIT, *_COPYRIGHT, *_SHARE))
    + rf"|(?:(?:{_READ_MORE})\s*[:.…»>|-]+\s*.{{1,{HEADLINE_MAX_CHARS}}})",
    re.IGNORECASE,
)


def is_promotional(line: str) -> bool:
    """Whether one line, as a whole, is an outlet's promotion rather than the article."""
    line = " ".join(line.split())
    return len(line) <= MAX_LINE_CHARS and _PROMO_LINE.fullmatch(line) is not None


def without_promo_tail(text: str) -> str:
    """``text`` without the promotional lines that end it (see the module docstring)."""
    lines = text.rstrip().split("\n")
    end = len(lines)
    while end:
        line = " ".join(lines[end - 1].split())
        if not line or is_promotional(line):
            end -= 1
            continue
        start = _read_more_list_start(lines, end)
        if start is None:
            break
        end = start
    return "\n".join(lines[:end]).rstrip()


def _read_more_list_start(lines: list[str], end: int) -> int | None:
    """Where a trailing "Read more" heading and its list of headlines begin, if the
    lines before ``end`` are such a list."""
    for index in range(end - 1, max(end - 1 - MAX_LIST_LINES, -1), -1):
        line = " ".join(lines[index].split())
        if _READ_MORE_HEADING.fullmatch(line):
            return index if index < end - 1 else None
        if not _is_headline(line):
            return None
    return None


def _is_headline(line: str) -> bool:
    ends_sentence = line.endswith((".", "!", "?", "。", "!", "?")) and not line.endswith("...")
    return 0 < len(line) <= HEADLINE_MAX_CHARS and not ends_sentence
