"""Outbound HTTP safety: URLs that owners type in (iCal feeds, platform base URLs) must not make
our servers call into our own network (SSRF).

Every outbound call to a platform or a feed goes through ``http_request``. The guard sits where
it cannot be bypassed: on the socket, after it connected. Each connection (the first URL and every
redirect hop, which ``requests`` follows through the same session) is refused unless the peer
address actually connected to is a public one, so neither a redirect to ``127.0.0.1`` nor a DNS
answer that changes between a check and the connect (rebinding) reaches a private address.

Private addresses are allowed only where configured: ``ALLOW_PRIVATE_HOSTS`` (tests), or the
exact ``host:port`` entries of ``SSRF_ALLOWED_HOSTS`` (the demo's own simulators under SITE_URL).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

MAX_REDIRECTS = 5


class PrivateHostRefused(ValueError):
    pass


def private_hosts_allowed() -> bool:
    """Any loopback/private target is allowed only when explicitly configured (tests)."""
    return bool(settings.ALLOW_PRIVATE_HOSTS)


def _allowed_endpoints() -> set[tuple[str, int]]:
    """(ip, port) pairs of ``SSRF_ALLOWED_HOSTS`` ("host:port" entries)."""
    out: set[tuple[str, int]] = set()
    for entry in settings.SSRF_ALLOWED_HOSTS:
        host, _, port = str(entry).rpartition(":")
        if not host or not port.isdigit():
            continue
        try:
            for info in socket.getaddrinfo(host.strip("[]"), int(port), proto=socket.IPPROTO_TCP):
                out.add((info[4][0], int(port)))
        except OSError:
            continue
    return out


def address_allowed(ip: str, port: int) -> bool:
    if private_hosts_allowed():
        return True
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return False
    if getattr(address, "ipv4_mapped", None):
        address = address.ipv4_mapped
    if address.is_global:
        return True
    return (str(address), int(port)) in _allowed_endpoints()


def assert_public_url(url: str) -> None:
    """Raise ``PrivateHostRefused`` unless the URL is http(s) and every address of its host may be
    called. A readable early check; ``http_request`` checks the connected address again."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise PrivateHostRefused("Only http and https URLs can be fetched.")
    if private_hosts_allowed():
        return
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise PrivateHostRefused("The URL has an invalid port.") from None
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise PrivateHostRefused(f"The host {host!r} could not be resolved.") from exc
    for info in infos:
        if not address_allowed(info[4][0], port):
            raise PrivateHostRefused(f"The host {host!r} is not a public address.")


def _checked(sock: socket.socket, host: str) -> socket.socket:
    try:
        peer = sock.getpeername()
    except OSError:
        sock.close()
        raise
    if not address_allowed(peer[0], peer[1]):
        sock.close()
        raise PrivateHostRefused(f"The host {host!r} is not a public address.")
    return sock


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _checked(super()._new_conn(), self.host)


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _checked(super()._new_conn(), self.host)


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """A transport adapter whose every socket is checked after it connected."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


def guarded_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment can route around the guard
    session.max_redirects = MAX_REDIRECTS
    adapter = GuardedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


_local = threading.local()


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = guarded_session()
    return session


def http_request(method: str, url: str, **kwargs: Any) -> requests.Response:
    """``requests.request`` for owner-influenced URLs: every hop and every connected address is
    checked (raises ``PrivateHostRefused``); connections are reused per thread."""
    assert_public_url(url)
    return _session().request(method, url, **kwargs)
