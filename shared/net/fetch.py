"""Fetching a URL a client gave us without letting the client reach our own network (SSRF).

A client's URL is resolved once, every address it resolves to is checked, and the connection goes
to a checked address: the HTTP client is handed a network backend pinned to it, so it never looks
the name up again (a DNS answer that changes between check and connect cannot steer it inside).
The URL itself is left alone, so the Host header, SNI and certificate checks are the name's.
Redirects are not followed by the client: each hop is checked like the first URL. Bodies are
streamed and cut off past a byte cap; the whole exchange, redirects included, has one deadline.

httpcore is used directly rather than httpx: httpx reads proxy settings from the environment,
and a proxy would connect to whatever the name resolves to on its side.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import httpcore

from shared.errors import FetchFailed, FetchTooLarge, UrlRefused

if TYPE_CHECKING:
    from shared.config import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

REDIRECTS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "mmf-fetch/1"
# Instance-metadata services: refused even for an allow-listed name (credentials live there).
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "169.254.170.23", "100.100.100.200", "192.0.0.192", "fd00:ec2::254",
))
# inet_aton's spellings of an IPv4 address: 2130706433, 0x7f000001, 0177.0.0.1, 127.1
NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|\d+)(\.(0x[0-9a-f]*|\d+)){0,3}$")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class FetchPolicy:
    """What a fetch may do. ``allow_hosts`` are names (lower case) exempt from the address checks."""

    allow_hosts: frozenset[str] = frozenset()
    max_bytes: int = 25 * 1024 * 1024
    timeout_s: float = 20.0
    max_redirects: int = 3

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchPolicy:
        return cls(frozenset(settings.fetch_allow_hosts), settings.fetch_max_bytes, settings.fetch_timeout_s,
                   settings.fetch_max_redirects)


@dataclass(frozen=True)
class Target:
    """A checked URL: its host as the HTTP layer sees it and the addresses it may connect to, in order."""

    url: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    content_type: str | None
    body: bytes


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries to an IPv4 host (mapped, 6to4, Teredo, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def forbidden_reason(ip: IPAddress) -> str | None:
    """Why a client's URL may not reach ``ip`` (e.g. "loopback"), or None for a public address."""
    if ip in METADATA_ADDRESSES:
        return "cloud metadata"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return forbidden_reason(embedded)
    for reason, flag in (("unspecified", ip.is_unspecified), ("loopback", ip.is_loopback),
                         ("link-local", ip.is_link_local), ("multicast", ip.is_multicast),
                         ("reserved", ip.is_reserved), ("private", ip.is_private)):
        if flag:
            return reason
    return None if ip.is_global else "non-public"


def _literal_address(host: str) -> IPAddress | None:
    """The address a host written as a number stands for, as the C resolver would read it."""
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            raise UrlRefused(f"{host!r} is not a valid IPv6 address") from None
    if NUMERIC_HOST.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            raise UrlRefused(f"{host!r} is not a valid host") from None
    return None


def _resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise FetchFailed(f"cannot resolve {host!r}: {error}") from None
    addresses = dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos)
    return tuple(addresses)


def check_url(url: str, policy: FetchPolicy) -> Target:
    """Parse, resolve and check ``url``; ``UrlRefused`` says why a client may not have it fetched."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise UrlRefused(f"not a valid URL: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise UrlRefused(f"only https URLs are fetched, not {scheme or 'a URL without a scheme'}")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("URLs with credentials are not fetched")
    raw_host = (parts.hostname or "").rstrip(".")
    if not raw_host or "%" in raw_host:
        raise UrlRefused(f"no usable host in {url!r}")
    literal = _literal_address(raw_host)
    try:
        host = raw_host if literal is not None else raw_host.encode("idna").decode("ascii")
    except UnicodeError:
        raise UrlRefused(f"{raw_host!r} is not a valid host name") from None
    allowed = host in policy.allow_hosts
    if scheme == "http" and not allowed:
        raise UrlRefused(f"plain http is refused for {host} (use https)")
    port = port or (443 if scheme == "https" else 80)
    addresses = (literal,) if literal is not None else _resolve(host, port)
    for address in addresses:
        reason = forbidden_reason(address)
        if reason == "cloud metadata" or (reason and not allowed):
            raise UrlRefused(f"{host} resolves to {address}, a {reason} address: not fetched")
    return Target(url.strip(), host, port, addresses)


class _PinnedBackend(httpcore.SyncBackend):
    """Connects every TCP connection to one checked address, whatever host name the request carries."""

    def __init__(self, address: IPAddress) -> None:
        self.address = str(address)

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        return super().connect_tcp(self.address, port, timeout, local_address, socket_options)


def _timeouts(deadline: float) -> dict[str, float]:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchFailed("the fetch took longer than its time limit")
    return {"connect": left, "read": left, "write": left, "pool": left}


def _read_capped(response: httpcore.Response, policy: FetchPolicy, deadline: float) -> bytes:
    declared = _header(response, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > policy.max_bytes:
        raise FetchTooLarge(f"the body is {declared} bytes, over the limit of {policy.max_bytes}")
    chunks, size = [], 0
    for chunk in response.iter_stream():
        size += len(chunk)
        if size > policy.max_bytes:
            raise FetchTooLarge(f"the body is over the limit of {policy.max_bytes} bytes")
        if time.monotonic() > deadline:
            raise FetchFailed("the fetch took longer than its time limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _header(response: httpcore.Response, name: bytes) -> str | None:
    for key, value in response.headers:
        if key.lower() == name:
            return value.decode("latin-1").strip()
    return None


@cache
def _tls() -> ssl.SSLContext:
    """One TLS context per process: building one loads the CA bundle (tens of ms), and it is shareable."""
    return ssl.create_default_context()


def _exchange(target: Target, method: str, headers: list[tuple[bytes, bytes]], content: bytes | None,
              policy: FetchPolicy, deadline: float) -> tuple[int, str | None, str | None, bytes]:
    """One request to the first reachable checked address: status, Location, Content-Type and the body."""
    failure: Exception | None = None
    for address in target.addresses:
        with httpcore.ConnectionPool(ssl_context=_tls(), network_backend=_PinnedBackend(address),
                                     max_connections=1, retries=0) as pool:
            extensions: dict[str, Any] = {"timeout": _timeouts(deadline)}
            try:
                with pool.stream(method, target.url, headers=headers, content=content, extensions=extensions) as resp:
                    location = _header(resp, b"location")
                    if resp.status in REDIRECTS and location:
                        return resp.status, location, None, b""
                    if not 200 <= resp.status < 300:
                        raise FetchFailed(f"{target.host} answered HTTP {resp.status}")
                    return resp.status, None, _header(resp, b"content-type"), _read_capped(resp, policy, deadline)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
            except httpcore.TimeoutException:
                raise FetchFailed(f"{target.host} did not answer in time") from None
            except httpcore.ProtocolError as error:
                raise FetchFailed(f"{target.host} broke the exchange: {error}") from None
            except httpcore.NetworkError as error:
                raise FetchFailed(f"the connection to {target.host} failed: {error}") from None
    raise FetchFailed(f"cannot connect to {target.host}: {failure}")


def fetch(url: str, policy: FetchPolicy, *, method: str = "GET", content: bytes | None = None,
          headers: dict[str, str] | None = None) -> Fetched:
    """The body at ``url``, following at most ``policy.max_redirects`` redirects, each one checked."""
    deadline = time.monotonic() + policy.timeout_s
    sent = [(b"User-Agent", USER_AGENT.encode()), (b"Accept-Encoding", b"identity")]
    sent += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    current = url
    for _hop in range(policy.max_redirects + 1):
        target = check_url(current, policy)
        status, location, content_type, body = _exchange(target, method, sent, content, policy, deadline)
        if location is None:
            return Fetched(target.url, status, content_type, body)
        current = urljoin(target.url, location)
        if status == 303 or (status in (301, 302) and method == "POST"):
            method, content = "GET", None
    raise FetchFailed(f"more than {policy.max_redirects} redirects from {url}")


def fetch_with_settings(url: str, settings: Settings) -> Fetched:
    """``fetch`` under the service's policy (FETCH_* settings): what image intake uses."""
    return fetch(url, FetchPolicy.from_settings(settings))
