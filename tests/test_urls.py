import pytest

from crawler.fetching.urls import canonical_url, is_private_ip, link_allowed, registrable_domain


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
    assert is_private_ip("127.0.0.1")
    assert is_private_ip("10.0.0.8")
    assert is_private_ip("169.254.169.254")
    assert is_private_ip("[::1]")
    assert is_private_ip("::ffff:127.0.0.1")  # IPv4-mapped: judged by its IPv4 part
    assert not is_private_ip("8.8.8.8")
    assert not is_private_ip("politico.eu")  # names are judged after DNS resolution
