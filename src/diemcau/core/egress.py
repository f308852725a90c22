"""Which network addresses a publish-by-URL may reach (pure rules, no I/O).

A trainer's URL is fetched by the worker, which sits inside the platform's network: next to the hub's API,
the proxy's API, the database and, in a cloud, the instance metadata service. So a fetch may only reach the
public internet — globally routable unicast addresses — unless the deployment allows private networks
(``media.fetch_private_networks``, for a province whose media server is on its intranet). Cloud metadata
addresses stay closed even then: nothing on them is media, and they hand out credentials.

An IPv6 address that carries an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4
``2002::/16``, the old IPv4-compatible ``::a.b.c.d``) is judged by both, so ``::ffff:127.0.0.1`` is loopback.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IANA special-purpose IPv4 blocks that are not globally reachable, plus multicast and the reserved 240/4
# (written out rather than taken from ``ipaddress.is_global``, whose answers changed between Python versions).
_NOT_PUBLIC_V4 = tuple(
    ipaddress.IPv4Network(net)
    for net in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
)
# Public IPv6 unicast is 2000::/3; inside it, these are documentation, protocol or tunnel blocks.
_GLOBAL_V6 = ipaddress.IPv6Network("2000::/3")
_NOT_PUBLIC_V6 = tuple(
    ipaddress.IPv6Network(net) for net in ("2001::/23", "2001:db8::/32", "2002::/16", "3fff::/20", "5f00::/16")
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
# Instance metadata services (AWS, GCP, Azure, OpenStack; AWS ECS; Alibaba; Oracle; AWS over IPv6).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "192.0.0.192", "fd00:ec2::254")
)


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4, IPv4-compatible), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """Is ``address`` globally routable unicast: not loopback, private, link-local, shared, multicast,
    unspecified, reserved or documentation space, and carrying no IPv4 address that is?"""
    if isinstance(address, ipaddress.IPv4Address):
        return not any(address in net for net in _NOT_PUBLIC_V4)
    inner = embedded_ipv4(address)
    if inner is not None and not is_public(inner):
        return False
    return address in _GLOBAL_V6 and not any(address in net for net in _NOT_PUBLIC_V6)


def is_metadata(address: IPAddress) -> bool:
    """Is ``address`` a cloud instance metadata service (directly or carried in an IPv6 address)?"""
    return address in METADATA_ADDRESSES or embedded_ipv4(address) in METADATA_ADDRESSES


@dataclass(frozen=True)
class EgressPolicy:
    """Where the worker's fetches may connect. ``allow_private`` opens private networks (and loopback) for
    an intranet media server; metadata services stay closed whatever it says."""

    allow_private: bool = False

    def permits(self, address: IPAddress) -> bool:
        """May a fetch connect to ``address``?"""
        if is_metadata(address):
            return False
        return self.allow_private or is_public(address)

    def permits_all(self, addresses: list[IPAddress]) -> bool:
        """May a fetch connect to a host resolving to ``addresses``? Only if every one of them is allowed (a
        name that mixes a public and a private address is refused, whichever the connection would pick)."""
        return bool(addresses) and all(self.permits(a) for a in addresses)
