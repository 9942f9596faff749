"""Who may reach affectlab's HTTP servers (the language-model server and ``affectlab serve``): loopback
addresses, the name in a Host header (checked against DNS rebinding) and bearer tokens.

>>> is_loopback("::1"), host_name("[::1]:8000"), bearer_matches("Bearer s3cret", "s3cret")
(True, '::1', True)
"""

from __future__ import annotations

import hmac
import ipaddress

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str) -> bool:
    """True for an address (or ``localhost``) that only this machine can reach."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The name in a Host header, without port, brackets, trailing dot or case: ``[::1]:8080`` → ``::1``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0].rstrip(".") if header.count(":") == 1 else header.rstrip(".")


def bearer_matches(header: str, token: str) -> bool:
    """True when an Authorization header carries ``Bearer <token>`` (compared in constant time)."""
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
