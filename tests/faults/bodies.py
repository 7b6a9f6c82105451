"""Bodies the fault server answers with: good and bad feeds, pages in several encodings.

Every builder takes the server's base URL and returns ``(content_type, body)``. The
outlets, reporters and events are invented.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

Body = tuple[str, bytes]

PARAGRAPHS = (
    "The harbour authority confirmed on Tuesday that the two container cranes damaged in "
    "last winter's storm will be back in service before the end of the month, after "
    "engineers replaced their control cabins and tested the new brakes.",
    "Dock workers had handled ships with a single crane for eleven months, and shipping "
    "lines had begun sending larger vessels to other ports. The authority expects traffic "
    "to return to its earlier level by the spring, when the timber season begins.",
    "The repairs cost less than first estimated because parts were taken from a crane "
    "that a port further down the coast had retired. A spokesperson said the savings would "
    "pay for new lighting along the outer quay, where two accidents happened last year.",
    "Local businesses welcomed the news. The owner of a ship supply shop near the gate said "
    "the quiet months had been the hardest since the fish market closed, and that she "
    "hoped the cranes would bring the night shifts back to the harbour.",
)

# Russian and French text, for pages and feeds in legacy encodings.
CYRILLIC_TITLE = "Порт возобновил работу после шторма"
CYRILLIC_PARAGRAPHS = (
    "Администрация порта сообщила во вторник, что оба контейнерных крана, повреждённых "
    "зимним штормом, вернутся в строй до конца месяца. Инженеры заменили кабины "
    "управления и проверили новые тормоза.",
    "Одиннадцать месяцев докеры работали с одним краном, и судоходные компании начали "
    "отправлять крупные суда в другие порты. Администрация ожидает, что движение "
    "восстановится к весне, когда начнётся сезон леса.",
    "Ремонт обошёлся дешевле, чем ожидалось: детали взяли с крана, который списал "
    "соседний порт. Сэкономленные деньги пойдут на новое освещение внешнего причала.",
    "Местные предприниматели приветствовали новость. Владелица магазина судового "
    "снабжения у ворот сказала, что тихие месяцы были самыми трудными за много лет.",
)
ACCENTED_TITLE = "Le port de Brégançon rouvre après la tempête"
ACCENTED_PARAGRAPHS = (
    "L'autorité portuaire a confirmé mardi que les deux grues endommagées par la tempête "
    "de l'hiver dernier seront remises en service avant la fin du mois, après que les "
    "ingénieurs ont remplacé leurs cabines et testé les nouveaux freins.",
    "Pendant onze mois, les dockers ont travaillé avec une seule grue, et les compagnies "
    "maritimes ont commencé à envoyer leurs plus grands navires vers d'autres ports. Le "
    "trafic devrait retrouver son niveau antérieur au printemps, à l'ouverture de la "
    "saison du bois.",
    "Les réparations ont coûté moins cher que prévu, car des pièces ont été récupérées sur "
    "une grue qu'un port voisin avait retirée. Les économies financeront un nouvel "
    "éclairage le long du quai extérieur, où deux accidents se sont produits l'an dernier.",
    "Les commerçants du quartier ont salué la nouvelle. La propriétaire d'une boutique "
    "d'avitaillement près de l'entrée espère que les grues ramèneront les équipes de nuit.",
)


def story_title(slug: str) -> str:
    return f"Harbour cranes return in {slug.replace('-', ' ').title()}"


def page(
    title: str,
    paragraphs: tuple[str, ...] = PARAGRAPHS,
    *,
    lang: str = "en",
    meta_charset: str | None = "utf-8",
) -> str:
    """A news article page with the usual furniture around the story."""
    charset = f'<meta charset="{meta_charset}">' if meta_charset else ""
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head>{charset}
<title>{escape(title)} | Harbour Gazette</title>
<meta property="og:title" content="{escape(title)}">
<meta property="article:published_time" content="2026-11-24T08:00:00Z">
</head><body>
<nav><a href="/">Home</a> <a href="/port">Port</a> <a href="/city">City</a></nav>
<main><article><h1>{escape(title)}</h1>
<p class="byline">By Ingrid Sol</p>
{body}
</article></main>
<footer><p>Harbour Gazette, all rights reserved.</p></footer>
</body></html>
"""


def feed(
    base: str,
    links: list[str],
    *,
    encoding: str = "utf-8",
    title: str = "Harbour Gazette",
    summary: str = "Port news.",
) -> bytes:
    """An RSS 2.0 feed with one item per link (paths are made absolute on ``base``)."""
    items = "".join(
        f"<item><title>{escape(title)} {n}</title><link>{escape(_absolute(base, link))}</link>"
        f"<description>{escape(summary)}</description>"
        f"<pubDate>Tue, 24 Nov 2026 08:0{n % 10}:00 +0000</pubDate></item>\n"
        for n, link in enumerate(links, 1)
    )
    xml = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        f'<rss version="2.0"><channel><title>{escape(title)}</title>'
        f"<link>{base}/</link><description>Port news</description>\n{items}"
        "</channel></rss>\n"
    )
    return xml.encode(encoding)


def _absolute(base: str, link: str) -> str:
    return link if "://" in link else base + link


# -- named bodies: /content/<name> ----------------------------------------------------------


def html_as_feed(base: str) -> Body:
    return "text/html; charset=utf-8", page("Welcome to the Harbour Gazette").encode()


def empty_feed(base: str) -> Body:
    return "application/rss+xml", b""


def binary(base: str) -> Body:
    return "image/png", PNG


def empty_page(base: str) -> Body:
    return "text/html; charset=utf-8", b""


def image_only_page(base: str) -> Body:
    """A page with pictures and a script, and not a word of text."""
    html = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title></title></head>'
        '<body><main><img src="/a.jpg" alt=""><img src="/b.jpg" alt="">'
        "<script>window.gallery = true;</script></main></body></html>"
    )
    return "text/html; charset=utf-8", html.encode()


def gallery_page(base: str) -> Body:
    """A photo gallery: a menu and pictures, no article text."""
    html = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Gallery</title></head>'
        '<body><nav><a href="/">Home</a></nav><main><img src="/a.jpg" alt="">'
        '<img src="/b.jpg" alt=""></main></body></html>'
    )
    return "text/html; charset=utf-8", html.encode()


def feed_as_text_html(base: str) -> Body:
    """A good feed served with the Content-Type of a web page, a common misconfiguration."""
    return "text/html; charset=utf-8", feed(base, ["/content/page-as-octet-stream"])


def page_as_octet_stream(base: str) -> Body:
    """An article page served with a download's Content-Type."""
    return "application/octet-stream", page(story_title("octet-stream")).encode()


def pdf(base: str) -> Body:
    return "application/pdf", b"%PDF-1.7\n" + bytes(range(256)) * 4


def invalid_xml_feed(base: str) -> Body:
    return "application/rss+xml", b'<?xml version="1.0"?>\n<rss version="2.0"><<channel></rss>'


def truncated_feed(base: str) -> Body:
    whole = feed(
        base,
        ["/story/truncated-one.html", "/story/truncated-two.html", "/story/truncated-three.html"],
    )
    cut = whole.index(b"truncated-three")
    return "application/rss+xml", whole[:cut]


def cp1251_page(base: str) -> Body:
    """Windows-1251 declared in the Content-Type header only."""
    html = page(CYRILLIC_TITLE, CYRILLIC_PARAGRAPHS, lang="ru", meta_charset=None)
    return "text/html; charset=windows-1251", html.encode("cp1251")


def cp1251_meta_page(base: str) -> Body:
    """Windows-1251 declared in a meta tag only."""
    html = page(CYRILLIC_TITLE, CYRILLIC_PARAGRAPHS, lang="ru", meta_charset="windows-1251")
    return "text/html", html.encode("cp1251")


def cp1251_undeclared_page(base: str) -> Body:
    """Windows-1251 with no declaration anywhere."""
    html = page(CYRILLIC_TITLE, CYRILLIC_PARAGRAPHS, lang="ru", meta_charset=None)
    return "text/html", html.encode("cp1251")


def lying_meta_page(base: str) -> Body:
    """Windows-1251 bytes under a meta tag that claims UTF-8."""
    html = page(CYRILLIC_TITLE, CYRILLIC_PARAGRAPHS, lang="ru", meta_charset="utf-8")
    return "text/html", html.encode("cp1251")


def lying_header_page(base: str) -> Body:
    """UTF-8 bytes under a Content-Type header that claims ISO-8859-1 (a server default)."""
    html = page(ACCENTED_TITLE, ACCENTED_PARAGRAPHS, lang="fr", meta_charset=None)
    return "text/html; charset=iso-8859-1", html.encode("utf-8")


def latin1_page(base: str) -> Body:
    html = page(ACCENTED_TITLE, ACCENTED_PARAGRAPHS, lang="fr", meta_charset="iso-8859-1")
    return "text/html", html.encode("iso-8859-1")


def latin1_feed(base: str) -> Body:
    """ISO-8859-1, declared in the XML declaration only; its article is ISO-8859-1 too."""
    body = feed(
        base,
        ["/content/latin1-page"],
        encoding="iso-8859-1",
        title=ACCENTED_TITLE,
        summary="Brégançon: les grues réparées reprennent",
    )
    return "application/rss+xml", body


def _feed_items(base: str, items: list[tuple[str, str | None, str | None]]) -> str:
    """RSS items of (title, link, guid); a None is left out."""
    return "".join(
        f"<item><title>{escape(title)}</title>"
        + (f"<link>{escape(_absolute(base, link))}</link>" if link else "")
        + (f'<guid isPermaLink="true">{escape(guid)}</guid>' if guid else "")
        + "<pubDate>Tue, 24 Nov 2026 08:00:00 +0000</pubDate></item>\n"
        for title, link, guid in items
    )


def undeclared_cp1252_feed(base: str) -> Body:
    """windows-1252 bytes and no encoding declared anywhere, as some CMSs serve; one
    entry has no link and one only a ``tag:`` id."""
    items = _feed_items(
        base,
        [
            (ACCENTED_TITLE, "/story/undeclared-feed.html", None),
            ("Sans lien : la capitainerie répond", None, None),
            ("Entrée d'archive", None, "tag:harbour.example,2026:7"),
        ],
    )
    xml = (
        f'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Gazette</title>'
        f"<link>{base}/</link><description>Port</description>\n{items}</channel></rss>\n"
    )
    return "application/rss+xml", xml.encode("cp1252")


def mislabelled_cp1251_feed(base: str) -> Body:
    """windows-1251 bytes under an XML declaration claiming UTF-8."""
    body = feed(
        base, ["/story/cyrillic-feed.html"], title=CYRILLIC_TITLE, summary=CYRILLIC_PARAGRAPHS[0]
    )
    return "application/rss+xml", body.decode("utf-8").encode("cp1251")


def utf16_feed(base: str) -> Body:
    """UTF-16 with a byte-order mark, declared in the XML declaration."""
    body = feed(base, ["/story/utf16-feed.html"], title=ACCENTED_TITLE)
    text = body.decode("utf-8").replace('encoding="utf-8"', 'encoding="utf-16"')
    return "application/xml", text.encode("utf-16")


def surrogate_feed(base: str) -> Body:
    """Three good entries, the second with a lone-surrogate character reference."""
    whole = feed(
        base,
        ["/story/surrogate-one.html", "/story/surrogate-two.html", "/story/surrogate-three.html"],
    ).decode()
    second = whole.index("Harbour Gazette 2")
    body = whole[:second] + "Harbour &#xD800; Gazette 2" + whole[second + 17 :]
    return "application/rss+xml", body.encode()


def broken_sitemap(base: str) -> Body:
    """A urlset with a broken tag after its second URL: recover mode drops the rest."""
    urls = [f"<url><loc>{base}/story/sitemap-{n}.html</loc></url>" for n in range(1, 5)]
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{urls[0]}\n{urls[1]}\n<url <loc>\n{urls[2]}\n{urls[3]}\n</urlset>\n"
    )
    return "application/xml", body.encode()


def deep_json_ld_page(base: str) -> Body:
    """A good article whose JSON-LD block is an array nested 5,000 deep."""
    nested = "[" * 5000 + "]" * 5000
    html = page(story_title("deep-json-ld")).replace(
        "</head>", f'<script type="application/ld+json">{nested}</script></head>'
    )
    return "text/html; charset=utf-8", html.encode()


def canonical_page(slug: str, canonical: str) -> Body:
    html = page(story_title(slug)).replace(
        "</head>", f'<link rel="canonical" href="{canonical}"></head>'
    )
    return "text/html; charset=utf-8", html.encode()


def canonical_other_port(base: str) -> Body:
    """An article declaring its canonical URL on the same host, on the Redis port."""
    host = base.rsplit(":", 1)[0]
    return canonical_page("other-port", f"{host}:6379/story/other-port.html")


def canonical_same_port(base: str) -> Body:
    """An article declaring its canonical URL on the same host and port."""
    return canonical_page("same-port", f"{base}/story/same-port-canonical.html")


def invisible_page(base: str) -> Body:
    """An article whose headline and first paragraph carry invisible characters."""
    from digest_fixtures import INVISIBLE

    first = PARAGRAPHS[0].replace("harbour authority", "harbour\u202e authority\u200b")
    html = page(INVISIBLE, (first, *PARAGRAPHS[1:]))
    return "text/html; charset=utf-8", html.encode()


def sitemap_index(base: str, children: list[str]) -> bytes:
    """A sitemap index listing ``children`` (paths on ``base``), undated."""
    entries = "".join(f"<sitemap><loc>{base}{child}</loc></sitemap>" for child in children)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}'
        "</sitemapindex>"
    ).encode()


def big_feed(base: str, entries: int) -> bytes:
    """An RSS feed of ``entries`` items, numbered oldest (1) to newest, newest last; each
    links /story/big-N.html. 200,000 entries make about 20 MB, 100,000 about 10 MB."""
    start = datetime(2026, 6, 1, tzinfo=UTC)
    items = (
        f"<item><title>Big {n}</title><link>/story/big-{n}.html</link><pubDate>"
        f"{(start + timedelta(minutes=n)).strftime('%a, %d %b %Y %H:%M:%S +0000')}"
        "</pubDate></item>\n"
        for n in range(1, entries + 1)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>Big</title><link>{base}/</link><description>d</description>\n"
        + "".join(items)
        + "</channel></rss>\n"
    ).encode()


def _png() -> bytes:
    header = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
    return header + bytes(range(256)) * 8


def _gzip_bomb(size: int = 32 * 1024 * 1024) -> bytes:
    """A small gzip body (about 32 KB) that inflates to ``size`` bytes of spaces."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9) as zipped:
        chunk = b" " * (1024 * 1024)
        for _ in range(size // len(chunk)):
            zipped.write(chunk)
    return buffer.getvalue()


PNG = _png()
GZIP_BOMB = _gzip_bomb()

CONTENT: dict[str, Callable[[str], Body]] = {
    name.replace("_", "-"): builder
    for name, builder in {
        "html_as_feed": html_as_feed,
        "empty_feed": empty_feed,
        "binary": binary,
        "empty_page": empty_page,
        "image_only_page": image_only_page,
        "gallery_page": gallery_page,
        "feed_as_text_html": feed_as_text_html,
        "page_as_octet_stream": page_as_octet_stream,
        "pdf": pdf,
        "invalid_xml_feed": invalid_xml_feed,
        "truncated_feed": truncated_feed,
        "cp1251_page": cp1251_page,
        "cp1251_meta_page": cp1251_meta_page,
        "cp1251_undeclared_page": cp1251_undeclared_page,
        "lying_meta_page": lying_meta_page,
        "lying_header_page": lying_header_page,
        "latin1_page": latin1_page,
        "latin1_feed": latin1_feed,
        "surrogate_feed": surrogate_feed,
        "broken_sitemap": broken_sitemap,
        "deep_json_ld_page": deep_json_ld_page,
        "canonical_other_port": canonical_other_port,
        "canonical_same_port": canonical_same_port,
        "invisible_page": invisible_page,
        "undeclared_cp1252_feed": undeclared_cp1252_feed,
        "mislabelled_cp1251_feed": mislabelled_cp1251_feed,
        "utf16_feed": utf16_feed,
    }.items()
}
