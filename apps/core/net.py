"""Outbound HTTP safety: URLs that owners type in (iCal feeds, platform base URLs) must not make
our servers call into our own network (SSRF)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class PrivateHostRefused(ValueError):
    pass


def private_hosts_allowed() -> bool:
    """Loopback/private targets are allowed only with the sandboxes on (demo and tests)."""
    return bool(getattr(settings, "ALLOW_PRIVATE_HOSTS", False))


def assert_public_url(url: str) -> None:
    """Raise ``PrivateHostRefused`` unless every address of the URL's host is a public one."""
    if private_hosts_allowed():
        return
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError as exc:
        raise PrivateHostRefused(f"The host {host!r} could not be resolved.") from exc
    for info in infos:
        if not ipaddress.ip_address(info[4][0]).is_global:
            raise PrivateHostRefused(f"The host {host!r} is not a public address.")
