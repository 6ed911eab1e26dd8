"""The offline guard itself: a test that reaches for the internet fails loudly."""

from __future__ import annotations

import socket

import pytest


def test_public_address_is_refused() -> None:
    with socket.socket() as sock, pytest.raises(RuntimeError, match="run offline"):
        sock.connect(("203.0.113.7", 443))


def test_public_name_lookup_is_refused() -> None:
    with pytest.raises(RuntimeError, match="run offline"):
        socket.getaddrinfo("in1.api.clevertap.com", 443)


def test_loopback_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.socket() as client:
            client.connect(server.getsockname())
