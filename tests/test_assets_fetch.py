"""SSRF-safe fetching of client URLs, against real HTTP servers on loopback.

A canary server counts every TCP connection it accepts: a refused URL must leave it at zero. The
"allowed" server is reached by the name ``localhost``, allow-listed as a local setup would be.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from shared.config import Settings
from shared.errors import FetchFailed, FetchTooLarge, UrlRefused
from shared.net import fetch as fetch_module
from shared.net.fetch import FetchPolicy, check_url, fetch, fetch_with_settings, forbidden_reason

BODY = b"\x89PNG\r\n\x1a\n" + b"x" * 1000


class Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[tuple[str, str]] = []
        self.connections = 0
        self.release = threading.Event()

    def verify_request(self, request, client_address) -> bool:
        self.connections += 1
        return True

    def handle_error(self, request, client_address) -> None:
        """A client that stops reading at the byte cap breaks the pipe mid-body: expected here."""

    @property
    def port(self) -> int:
        return self.server_address[1]


class Handler(BaseHTTPRequestHandler):
    server: Recorder

    def log_message(self, *args) -> None:
        """Quiet: the tests read what the server recorded instead."""

    def do_GET(self) -> None:
        self.server.requests.append((self.path, self.headers.get("Host", "")))
        parts = urlsplit(self.path)
        if parts.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", parse_qs(parts.query)["to"][0])
            self.end_headers()
        elif parts.path == "/big":  # no Content-Length: the body ends when the connection closes
            self.send_response(200)
            self.end_headers()
            for _ in range(64):
                self.wfile.write(b"y" * 1024)
        elif parts.path == "/declared-big":
            self.send_response(200)
            self.send_header("Content-Length", str(10**9))
            self.end_headers()
            self.wfile.write(b"y" * 10)
        elif parts.path == "/stall":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"y")
            self.wfile.flush()
            self.server.release.wait(10)
        else:
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)


def serve() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def canary() -> Iterator[Recorder]:
    yield from serve()


@pytest.fixture
def allowed() -> Iterator[Recorder]:
    yield from serve()


def policy(**overrides) -> FetchPolicy:
    return FetchPolicy(**{"allow_hosts": frozenset({"localhost"}), "max_bytes": 10_000, "timeout_s": 5.0,
                          "max_redirects": 3, **overrides})


@pytest.mark.parametrize(("host", "reason"), [
    ("127.0.0.1", "loopback"),
    ("10.0.0.1", "private"),
    ("169.254.169.254", "cloud metadata"),
    ("[::1]", "loopback"),
    ("2130706433", "loopback"),  # 127.0.0.1 as a decimal integer
    ("0x7f000001", "loopback"),  # ... as a hex integer
    ("0177.0.0.1", "loopback"),  # ... with an octal part
    ("127.1", "loopback"),
    ("[::ffff:127.0.0.1]", "loopback"),  # IPv4-mapped IPv6
    ("[::ffff:a9fe:a9fe]", "cloud metadata"),
    ("0.0.0.0", "unspecified"),
])
def test_forbidden_addresses_are_refused_before_any_connection(canary, host, reason):
    url = f"https://{host}:{canary.port}/image.png"
    with pytest.raises(UrlRefused, match=f"a {reason} address"):
        fetch(url, policy())
    assert canary.connections == 0


def test_plain_http_is_refused_unless_the_host_is_allow_listed(canary, allowed):
    with pytest.raises(UrlRefused, match=r"plain http is refused for 127\.0\.0\.1"):
        fetch(f"http://127.0.0.1:{canary.port}/image.png", policy(allow_hosts=frozenset()))
    with pytest.raises(UrlRefused, match="only https"):
        fetch(f"ftp://localhost:{canary.port}/image.png", policy())
    with pytest.raises(UrlRefused, match="credentials"):
        fetch(f"https://user:secret@localhost:{canary.port}/image.png", policy())
    assert canary.connections == 0


def test_an_allow_listed_host_is_fetched(allowed):
    got = fetch(f"http://localhost:{allowed.port}/image.png", policy())
    assert got.body == BODY and got.status == 200 and got.content_type == "image/png"
    assert allowed.requests == [("/image.png", f"localhost:{allowed.port}")]


@pytest.mark.parametrize("target", ["https://127.0.0.1:{port}/", "http://127.0.0.1:{port}/",
                                    "https://[::ffff:7f00:1]:{port}/", "https://169.254.169.254/latest/meta-data/"])
def test_a_redirect_from_an_allowed_host_to_a_forbidden_address_is_refused(canary, allowed, target):
    to = target.format(port=canary.port)
    with pytest.raises(UrlRefused):
        fetch(f"http://localhost:{allowed.port}/redirect?to={to}", policy())
    assert [path for path, _ in allowed.requests] == [f"/redirect?to={to}"]
    assert canary.connections == 0


def test_redirects_are_followed_up_to_the_limit_each_one_checked(allowed):
    final = f"http://localhost:{allowed.port}/image.png"
    once = f"http://localhost:{allowed.port}/redirect?to={final}"
    assert fetch(once, policy()).url == final
    twice = f"http://localhost:{allowed.port}/redirect?to={once}"
    with pytest.raises(FetchFailed, match="more than 1 redirects"):
        fetch(twice, policy(max_redirects=1))


@pytest.mark.parametrize("path", ["/big", "/declared-big"])
def test_a_body_over_the_cap_is_refused(allowed, path):
    with pytest.raises(FetchTooLarge, match="over the limit of 10000"):
        fetch(f"http://localhost:{allowed.port}{path}", policy())


def test_a_stalled_server_hits_the_time_limit(allowed):
    with pytest.raises(FetchFailed, match=r"in time|time limit"):
        fetch(f"http://localhost:{allowed.port}/stall", policy(timeout_s=0.3))


def test_the_connection_goes_to_the_checked_address_without_a_second_lookup(allowed, monkeypatch):
    """The HTTP client never resolves the name itself: pinned.test exists only in our resolver's answer."""
    real = socket.getaddrinfo
    lookups = []

    def resolver(host, *args, **kwargs):
        if host == "pinned.test":
            lookups.append(host)
            return real("127.0.0.1", *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    got = fetch(f"http://pinned.test:{allowed.port}/image.png", policy(allow_hosts=frozenset({"pinned.test"})))
    assert got.body == BODY
    assert lookups == ["pinned.test"]
    assert allowed.requests == [("/image.png", f"pinned.test:{allowed.port}")]


def test_a_name_resolving_to_a_private_address_is_refused(monkeypatch, canary):
    monkeypatch.setattr(fetch_module, "_resolve", lambda host, port: (ipaddress.ip_address("127.0.0.1"),))
    with pytest.raises(UrlRefused, match=r"images\.example\.com resolves to 127\.0\.0\.1, a loopback address"):
        check_url(f"https://images.example.com:{canary.port}/a.png", policy())
    assert canary.connections == 0


def test_metadata_addresses_stay_refused_even_for_allow_listed_names(monkeypatch):
    monkeypatch.setattr(fetch_module, "_resolve", lambda host, port: (ipaddress.ip_address("169.254.169.254"),))
    with pytest.raises(UrlRefused, match="cloud metadata"):
        check_url("http://metadata.internal/", policy(allow_hosts=frozenset({"metadata.internal"})))


@pytest.mark.parametrize(("address", "reason"), [
    ("8.8.8.8", None), ("2001:4860:4860::8888", None), ("100.64.0.1", "non-public"), ("192.168.1.1", "private"),
    ("172.16.0.1", "private"), ("fc00::1", "private"), ("fe80::1", "link-local"), ("ff02::1", "multicast"),
    ("224.0.0.1", "multicast"), ("240.0.0.1", "reserved"), ("::", "unspecified"), ("2002:7f00:1::", "loopback"),
    ("64:ff9b::a00:1", "private"), ("fd00:ec2::254", "cloud metadata"),
])
def test_address_classes(address, reason):
    assert forbidden_reason(ipaddress.ip_address(address)) == reason


def test_the_settings_policy_reads_the_allow_list(allowed, tmp_path):
    settings = Settings(data_dir=tmp_path, fetch_allow_hosts="LocalHost.", fetch_max_bytes=5000)
    assert fetch_with_settings(f"http://localhost:{allowed.port}/image.png", settings).body == BODY
    with pytest.raises(UrlRefused):
        fetch_with_settings(f"http://localhost:{allowed.port}/image.png", Settings(data_dir=tmp_path,
                                                                                   fetch_allow_hosts=""))
