"""URL identity and link policy: canonical forms, registrable domains, private addresses.

This module is the one home of the address policy (docs/reliability.md, "About
addresses"): ``ip_of`` reads an IP literal in every spelling a browser or ``inet_aton``
accepts, and ``is_public_address`` decides whether an address may be fetched.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Mapping, Sequence
from functools import cache, lru_cache
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

from w3lib.url import safe_url_string

# Query parameters that identify a campaign or a click, never the article.
TRACKING_PARAMETER = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|mc_cid|mc_eid|igshid|"
    r"_ga|_gl|mkt_tok|oly_anon_id|oly_enc_id|vero_id|cmpid|ocid|at_medium|at_campaign|"
    r"at_custom\d|ito|xtor|sref|smid|ref_src|s_cid)$",
    re.IGNORECASE,
)
DEFAULT_PORTS = {"http": 80, "https": 443}
ALLOW_HINT = "(set [crawl] allow_private_addresses = true to allow it)"


def canonical_url(url: str) -> str:
    """The form of ``url`` that identifies an article.

    Lower-case scheme and host, no default port, no fragment, no user info, tracking
    parameters (utm_*, fbclid, gclid, ...) removed; the rest of the query keeps its order
    and encoding.
    """
    parts = urlsplit(safe_url_string(url.strip()))
    scheme = parts.scheme.lower()
    host = url_host(host_of(parts.geturl()))
    port = parts.port
    netloc = host if port in (None, DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    query = "&".join(
        pair
        for pair in parts.query.split("&")
        if pair and not TRACKING_PARAMETER.match(pair.split("=", 1)[0])
    )
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def host_of(url: str) -> str:
    """The host of ``url``, lower-case, without a trailing dot or IPv6 brackets."""
    return (urlsplit(url).hostname or "").lower().rstrip(".")


def url_host(host: str) -> str:
    """``host`` as written in a canonical URL: an IPv4 literal in dotted decimal (however
    it was spelled), an IPv6 literal compressed and in brackets, a name as it is."""
    address = ip_of(host)
    if address is None:
        return host
    if address.version == 6:
        return f"[{address.compressed}]"
    return str(address)


@lru_cache(maxsize=4096)
def registrable_domain(host: str) -> str:
    """``www.politico.eu`` -> ``politico.eu``; IP addresses and bare names stay as they are."""
    host = host.lower().rstrip(".")
    if is_ip(host):
        return host
    extracted = _suffix_list()(host)
    return extracted.top_domain_under_public_suffix or host


@cache
def _suffix_list() -> Callable[[str], Any]:
    """The Public Suffix List snapshot that ships with tldextract: no network access,
    ever. Loaded at the first link judged (tldextract imports requests): a pass with no
    new links never pays for it."""
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


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


def canonical_adoptable(canonical: str, reached: str) -> bool:
    """May a page reached at ``reached`` take its declared rel=canonical ``canonical``
    as its identity? Only an http(s) URL on the same registrable domain and the same
    port (a default port matches a default port: http to https is fine), so that a
    page cannot send its revisits to another service on its host."""
    target, origin = urlsplit(canonical), urlsplit(reached)
    if target.scheme not in DEFAULT_PORTS:
        return False
    if registrable_domain(host_of(canonical)) != registrable_domain(host_of(reached)):
        return False
    try:
        return _explicit_port(target) == _explicit_port(origin)
    except ValueError:  # a port that is not a number
        return False


def _explicit_port(parts: SplitResult) -> int | None:
    """The port of a URL, or None when it is its scheme's default."""
    port = parts.port
    return None if port in (None, DEFAULT_PORTS.get(parts.scheme)) else port


def is_ip(host: str) -> bool:
    """Is ``host`` an IPv4 or IPv6 literal (brackets allowed), in any spelling?"""
    return ip_of(host) is not None


Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# One part of an IPv4 literal as inet_aton and the WHATWG URL standard read it:
# hexadecimal after 0x, octal after a leading 0, decimal otherwise.
_IPV4_PART = re.compile(r"0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*")


def ip_of(host: str) -> Address | None:
    """The address an IP-literal ``host`` names, or None for a host name.

    IPv4 is read as browsers and ``inet_aton`` read it, so ``2130706433``,
    ``0x7f000001``, ``0177.0.0.1``, ``127.1`` and ``0x7f.1`` are all 127.0.0.1. IPv6 may
    be in brackets and carry a zone id (``fe80::1%eth0``).
    """
    text = host.strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text)
        except ValueError:
            return None
    return _ipv4(text.removesuffix("."))


def _ipv4(text: str) -> ipaddress.IPv4Address | None:
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(_IPV4_PART.fullmatch(part) for part in parts):
        return None
    numbers = [_ipv4_number(part) for part in parts]
    *leading, last = numbers
    if any(number > 255 for number in leading) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _ipv4_number(part: str) -> int:
    if part[:2] in ("0x", "0X"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part[1:], 8)
    return int(part)


# IPv6 space that is never a public web server, whatever ``is_global`` says of it in
# this Python: site-local, unique-local, link-local, multicast, documentation,
# discard-only, and NAT64 for local use.
_NOT_PUBLIC_V6 = tuple(
    ipaddress.IPv6Network(net)
    for net in (
        "fec0::/10",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
        "2001:db8::/32",
        "3fff::/20",
        "100::/64",
        "64:ff9b:1::/48",
    )
)
_COMPATIBLE = ipaddress.IPv6Network("::/96")  # IPv4-compatible (deprecated)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # the well-known NAT64 prefix


def is_public_address(address: str | Address) -> bool:
    """True for a globally routable address; False for loopback, private, link-local,
    reserved, multicast, documentation space, or not an address at all.

    An IPv6 address that carries an IPv4 one (IPv4-mapped and -compatible, NAT64,
    6to4, Teredo) is judged by the IPv4 address it carries.
    """
    parsed = ip_of(address) if isinstance(address, str) else address
    if parsed is None:
        return False
    if parsed.version == 4:
        return parsed.is_global and not parsed.is_multicast
    if parsed.scope_id is not None:  # a zone id is only ever local
        return False
    embedded = _embedded_ipv4(parsed)
    if embedded:
        return all(is_public_address(inner) for inner in embedded)
    if any(parsed in network for network in _NOT_PUBLIC_V6):
        return False
    return parsed.is_global


def refused_address(host: str, addresses: Sequence[str] = ()) -> str | None:
    """Why the address policy refuses ``host``, in one line, or None when it may be
    fetched: an IP literal (in any spelling) that is not public, or a host name one of
    whose ``addresses`` (every address it resolves to) is not."""
    literal = ip_of(host)
    if literal is not None:
        if is_public_address(literal):
            return None
        shown = "" if str(literal) == host.strip("[]") else f" ({literal})"
        return f"refused: {host} is a private address{shown} {ALLOW_HINT}"
    private = [address for address in addresses if not is_public_address(address)]
    return refusal_message(host, private[0]) if private else None


def refusal_message(host: str, address: str) -> str:
    return f"refused: {host} resolves to a private address {address} {ALLOW_HINT}"


def all_addresses(host: str) -> tuple[str, ...]:
    """Every address ``host`` resolves to on this machine (a blocking lookup)."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))


def environment_proxy(url: str, proxies: Mapping[str, str]) -> bool:
    """Would a request for ``url`` go through one of ``proxies`` (the environment's, as
    ``urllib.request.getproxies`` reads them), given the environment's ``no_proxy``?"""
    from urllib.request import proxy_bypass

    return bool(proxies.get(urlsplit(url).scheme)) and not proxy_bypass(host_of(url))


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, as written in it (robots.txt is per origin)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address carries, if it is of a form that does."""
    if address.ipv4_mapped is not None:
        return (address.ipv4_mapped,)
    if address in _COMPATIBLE or address in _NAT64:
        return (ipaddress.IPv4Address(int(address) & 0xFFFFFFFF),)
    if address.sixtofour is not None:
        return (address.sixtofour,)
    if address.teredo is not None:
        return address.teredo  # (server, client)
    return ()


def private_address(host: str) -> Address | None:
    """The address an IP-literal ``host`` names when it is not public, else None. Host
    names are judged by the addresses they resolve to (crawler/fetching/resolver.py)."""
    address = ip_of(host)
    return address if address is not None and not is_public_address(address) else None
