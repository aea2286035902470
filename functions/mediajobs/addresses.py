"""Which server addresses this system may connect to on a user's or a provider's behalf (webhook
deliveries, provider outputs): public ones only, loopback where a caller allows it (the local
stack), never private, link-local (the metadata server), reserved or multicast ones."""

from __future__ import annotations

import ipaddress


def refused_address(address: str, allow_loopback: bool = False) -> str | None:
    """Why a server address is not one to connect to, or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if allow_loopback else f"points to a loopback address ({ip})"
    if ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return f"points to a private, link-local or reserved address ({ip})"
    if not ip.is_global:
        return f"points to an address that is not public ({ip})"
    return None
