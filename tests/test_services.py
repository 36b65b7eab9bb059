"""The service fixtures themselves start what they promise."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest


@pytest.mark.redis
def test_redis_answers_ping(redis_url: str) -> None:
    address = urlsplit(redis_url)
    with socket.create_connection((address.hostname, address.port), timeout=5) as sock:
        sock.sendall(b"*1\r\n$4\r\nPING\r\n")
        assert sock.recv(64) == b"+PONG\r\n"
