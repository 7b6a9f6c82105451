"""URL identity and link policy: canonical forms, registrable domains, private hosts."""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

import tldextract
from w3lib.url import safe_url_string

# Query parameters that identify a campaign or a click, never the article.
TRACKING_PARAMETER = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|mc_cid|mc_eid|igshid|"
    r"_ga|_gl|mkt_tok|oly_anon_id|oly_enc_id|vero_id|cmpid|ocid|at_medium|at_campaign|"
    r"at_custom\d|ito|xtor|sref|smid|ref_src|s_cid)$",
    re.IGNORECASE,
)
DEFAULT_PORTS = {"http": 80, "https": 443}

# The Public Suffix List snapshot that ships with tldextract: no network access, ever.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def canonical_url(url: str) -> str:
    """The form of ``url`` that identifies an article.

    Lower-case scheme and host, no default port, no fragment, no user info, tracking
    parameters (utm_*, fbclid, gclid, ...) removed; the rest of the query keeps its order
    and encoding.
    """
    parts = urlsplit(safe_url_string(url.strip()))
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port
    netloc = host if port in (None, DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    query = "&".join(
        pair for pair in parts.query.split("&")
        if pair and not TRACKING_PARAMETER.match(pair.split("=", 1)[0])
    )
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().rstrip(".")


@lru_cache(maxsize=4096)
def registrable_domain(host: str) -> str:
    """``www.politico.eu`` -> ``politico.eu``; IP addresses and bare names stay as they are."""
    host = host.lower().rstrip(".")
    if is_ip(host):
        return host
    extracted = _EXTRACT(host)
    return extracted.top_domain_under_public_suffix or host


def link_allowed(url: str, source_url: str, allowed_domains: tuple[str, ...] = ()) -> bool:
    """May an article link found in ``source_url`` be fetched?

    Yes when it is http(s) and on the source's own registrable domain or on one of the
    source's ``allowed_domains`` (a domain allows its subdomains).
    """
    if urlsplit(url).scheme not in DEFAULT_PORTS:
        return False
    host = host_of(url)
    if registrable_domain(host) == registrable_domain(host_of(source_url)):
        return True
    return any(host == domain or host.endswith("." + domain) for domain in allowed_domains)


def is_ip(host: str) -> bool:
    """Is ``host`` an IPv4 or IPv6 literal (brackets allowed)?"""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def is_public_address(address: str) -> bool:
    """True for a globally routable IP address (an IPv4-mapped IPv6 address is judged by
    its IPv4 part); False for loopback, private, link-local, reserved or not an address."""
    try:
        parsed = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return False
    mapped = getattr(parsed, "ipv4_mapped", None)
    return (mapped or parsed).is_global


def is_private_ip(host: str) -> bool:
    """True for an IP literal that is not public. Host names are judged after DNS
    resolution (crawler/resolver.py), never by their spelling."""
    return is_ip(host) and not is_public_address(host)
