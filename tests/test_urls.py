import pytest

from crawler.fetching.urls import canonical_url, link_allowed, private_address, registrable_domain


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTPS://WWW.Politico.EU/article/x/", "https://www.politico.eu/article/x/"),
        ("https://www.politico.eu/article/x/#comments", "https://www.politico.eu/article/x/"),
        ("https://a.example/x?utm_source=rss&utm_medium=feed", "https://a.example/x"),
        ("https://a.example/x?id=7&fbclid=abc&gclid=d", "https://a.example/x?id=7"),
        ("http://a.example:80/x", "http://a.example/x"),
        ("https://a.example:8443/x", "https://a.example:8443/x"),
        ("https://a.example", "https://a.example/"),
        ("https://a.example/x?b=2&a=1", "https://a.example/x?b=2&a=1"),
    ],
)
def test_canonical_url(url, canonical):
    assert canonical_url(url) == canonical


def test_registrable_domain_uses_the_public_suffix_list():
    assert registrable_domain("rss.politico.com") == "politico.com"
    assert registrable_domain("feeds.bbci.co.uk") == "bbci.co.uk"
    assert registrable_domain("127.0.0.1") == "127.0.0.1"


def test_link_policy():
    feed = "https://rss.politico.com/defense.xml"
    assert link_allowed("https://www.politico.com/news/x", feed)
    assert not link_allowed("https://www.example.com/x", feed)
    assert not link_allowed("mailto:desk@politico.com", feed)
    bbc = "https://feeds.bbci.co.uk/news/rss.xml"
    assert link_allowed("https://www.bbc.com/news/x", bbc, ("bbc.com",))
    assert not link_allowed("https://www.bbc.com/news/x", bbc)


def test_private_addresses():
    assert private_address("127.0.0.1") is not None
    assert private_address("10.0.0.8") is not None
    assert private_address("169.254.169.254") is not None
    assert private_address("[::1]") is not None
    assert private_address("::ffff:127.0.0.1") is not None  # IPv4-mapped: judged by its IPv4 part
    assert private_address("8.8.8.8") is None
    assert private_address("politico.eu") is None  # names are judged after DNS resolution
