"""The client's address and scheme behind reverse proxies named in an explicit list.

X-Forwarded-For is a list each proxy appends the address it received the request from to, so
only its right end was written by proxies we run; anything to the left of them may be forged
by the client. The client is therefore the rightmost address that is not a trusted proxy, and
the headers are read only when the direct peer itself is a trusted proxy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from pipeline.errors import ReviewError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK: tuple[Network, ...] = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def parse_networks(spec: str) -> tuple[Network, ...]:
    """`"10.0.0.5, 192.168.0.0/16, ::1"` → networks; a French error naming a bad entry."""
    nets = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError as e:
            raise ReviewError(
                f"trusted proxies: not an IP address or network: {item!r}",
                f"DOSSIER_REVIEW_TRUSTED_PROXIES : « {item} » n’est ni une adresse IP ni un réseau "
                "(exemples : 10.0.0.5, 192.168.0.0/16, ::1).",
            ) from e
    return tuple(nets)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip().strip('"')
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def is_trusted(address: str, trusted: Iterable[Network]) -> bool:
    ip = _ip(address)
    return ip is not None and any(ip in net for net in trusted)


def client_address(peer: str, forwarded_for: list[str], trusted: tuple[Network, ...]) -> str:
    """The rightmost address of `forwarded_for` + peer that is not a trusted proxy.

    An unparsable entry stops the walk there: it was not written by a proxy we trust, so it is
    the client as far as we can tell (and, being no address, it matches no limit key of another).
    """
    if not is_trusted(peer, trusted):
        return peer
    for hop in reversed([h.strip() for value in forwarded_for for h in value.split(",") if h.strip()]):
        if not is_trusted(hop, trusted):
            ip = _ip(hop)
            return str(ip) if ip is not None else hop[:64]
    return peer  # every hop is one of ours: the request started inside


class TrustedProxies:
    """ASGI middleware: rewrite the client address (and scheme) from proxies in `trusted` only."""

    def __init__(self, app: ASGIApp, trusted: tuple[Network, ...]) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope.get("client"):
            peer, port = scope["client"]
            if is_trusted(peer, self.trusted):
                headers = [(k.lower(), v.decode("latin-1")) for k, v in scope["headers"]]
                forwarded = [v for k, v in headers if k == b"x-forwarded-for"]
                proto = [v for k, v in headers if k == b"x-forwarded-proto"]
                scope = dict(scope)
                if forwarded:
                    scope["client"] = (client_address(peer, forwarded, self.trusted), port)
                if proto:
                    scheme = proto[-1].split(",")[-1].strip().lower()
                    if scheme in ("http", "https"):
                        scope["scheme"] = scheme if scope["type"] == "http" else {"http": "ws", "https": "wss"}[scheme]
        await self.app(scope, receive, send)
