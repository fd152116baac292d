"""Which webhook URLs may be called: never loopback, private or metadata addresses.

Checked when a webhook is created and again before every attempt, after DNS
resolution, so a name that comes to point inward is caught. Refused: the name
``localhost``, ``0.0.0.0``/``::``, loopback, RFC 1918, carrier-grade NAT
(100.64.0.0/10), link-local (169.254.0.0/16 with the cloud metadata address,
fe80::/10), IPv6 unique-local (fc00::/7), and any other non-global address.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class RefusedAddress(Exception):
    """The URL's host is, or resolves to, an address webhooks may not call."""


def is_private(address: str) -> bool:
    """Whether an IP address is one a webhook must not reach."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_unspecified
        or ip.is_multicast
        or ip.is_reserved
        or (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT)
        or not ip.is_global
    )


def check_url(url: str) -> None:
    """Raise RefusedAddress when the URL's host is, or resolves to, a private address.

    A name that does not resolve is refused too: nothing can be checked.
    """
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if not host:
        raise RefusedAddress("the URL has no host")
    if host == "localhost" or host.endswith(".localhost"):
        raise RefusedAddress(f"{host} is a loopback name")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        if is_private(host):
            raise RefusedAddress(f"{host} is a loopback, private or link-local address")
        return
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise RefusedAddress(f"{host} does not resolve ({exc})") from None
    for info in infos:
        address = str(info[4][0])
        if is_private(address):
            raise RefusedAddress(f"{host} resolves to {address}, a private address")
