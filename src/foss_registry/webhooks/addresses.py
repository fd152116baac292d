"""Which webhook URLs may be called: never loopback, private or metadata addresses.

Checked when a webhook is created and again before every attempt, after DNS
resolution, so a name that comes to point inward is caught; the attempt then
connects to the very address checked (:func:`pinned_request`), so a name that
changes its answer between the check and the connection (DNS rebinding) cannot
lead it elsewhere. Refused: the name
``localhost``, ``0.0.0.0``/``::``, loopback, RFC 1918, carrier-grade NAT
(100.64.0.0/10), link-local (169.254.0.0/16 with the cloud metadata address,
fe80::/10), IPv6 unique-local (fc00::/7), and any other non-global address.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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


def check_url(url: str) -> str:
    """Return the address to connect to; RefusedAddress when the host is or resolves private.

    A name that does not resolve is refused too: nothing can be checked. Every
    address the name resolves to must be public; the first is returned.
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
        return host
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise RefusedAddress(f"{host} does not resolve ({exc})") from None
    addresses = [str(info[4][0]) for info in infos]
    for address in addresses:
        if is_private(address):
            raise RefusedAddress(f"{host} resolves to {address}, a private address")
    if not addresses:
        raise RefusedAddress(f"{host} does not resolve")
    return addresses[0]


def pinned_request(url: str, address: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The URL with its host replaced by the checked ``address``, and what keeps it the same site.

    Returns the URL to send to, the ``Host`` header, and the request extensions
    (``sni_hostname``: TLS still names, and verifies the certificate of, the
    original host).
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    ip = address.split("%", 1)[0]
    shown = f"[{ip}]" if ":" in ip else ip
    netloc = shown if parts.port is None else f"{shown}:{parts.port}"
    host_header = parts.netloc.rsplit("@", 1)[-1]
    extensions: dict[str, Any] = {"sni_hostname": host} if parts.scheme == "https" else {}
    return urlunsplit(parts._replace(netloc=netloc)), {"Host": host_header}, extensions
