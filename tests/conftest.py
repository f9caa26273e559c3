"""Shared fixtures: settings in a temporary data dir, the corpora, and a network guard.

The guard is session-wide and automatic: any `socket.connect` to an address that is not
loopback (127.0.0.0/8, ::1, "localhost") or an AF_UNIX path is refused with an error that
names the address, so no test can reach the network, even by accident (telemetry, a model
download, a remote LLM call).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.settings import Settings

TESTS_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = TESTS_DIR.parent
SAMPLES_DIR = PROJECT_ROOT / "samples"
# the torture corpus lives beside the project: ../shared/corpus/torture
TORTURE_DIR = TESTS_DIR.parents[1] / "shared" / "corpus" / "torture"


# --- network guard ------------------------------------------------------------------------------


class NetworkBlockedError(ConnectionRefusedError):
    """Raised instead of connecting anywhere but loopback while the tests run."""


def _is_loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    host = host.strip("[]").split("%", 1)[0]  # IPv6 scope id, bracketed form
    if host.lower() in ("localhost", "localhost.", "ip6-localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False  # any other host name would need DNS: refused
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _allowed(sock: socket.socket, address: Any) -> bool:
    family = getattr(socket, "AF_UNIX", None)
    if family is not None and sock.family == family:
        return True
    if isinstance(address, str | bytes):  # a path: only AF_UNIX takes one
        return family is not None and sock.family == family
    if isinstance(address, tuple) and address:
        return _is_loopback(address[0])
    return False


@pytest.fixture(autouse=True, scope="session")
def _no_network() -> Iterator[None]:
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if not _allowed(self, address):
            raise NetworkBlockedError(f"network access is blocked in tests: connect to {address!r} refused")
        return real_connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> Any:
        if not _allowed(self, address):
            raise NetworkBlockedError(f"network access is blocked in tests: connect_ex to {address!r} refused")
        return real_connect_ex(self, address)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", guarded_connect)
        mp.setattr(socket.socket, "connect_ex", guarded_connect_ex)
        yield


# --- shared fixtures ----------------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Default limits, data (indexes, caches, database) in the test's own temporary folder."""
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def torture_dir() -> Path:
    """The shared torture corpus (`../shared/corpus/torture`); the test is skipped without it."""
    if not (TORTURE_DIR / "pdf").is_dir() and not (TORTURE_DIR / "docx").is_dir():
        pytest.skip(f"torture corpus absent: {TORTURE_DIR}")
    return TORTURE_DIR


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The committed sample dossiers (`samples/<name>/<name>.pdf|docx`)."""
    if not SAMPLES_DIR.is_dir():
        pytest.skip(f"samples absent: {SAMPLES_DIR}")
    return SAMPLES_DIR
