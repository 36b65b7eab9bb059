"""The console's browser library as the install step fetches it, from a registry served on 127.0.0.1: the
pinned bytes are installed with their stamp, other bytes are refused and nothing is installed, and a file
left by another pinned version counts as missing."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from console.assets import HTMX, AssetError, fetch

SCRIPT = b"/* htmx */ var htmx = {};"


def tarball(body: bytes) -> bytes:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as archive:
        member = tarfile.TarInfo(HTMX.member)
        member.size = len(body)
        archive.addfile(member, io.BytesIO(body))
    return data.getvalue()


def integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


@pytest.fixture
def registry() -> Iterator[tuple[str, dict[str, bytes]]]:
    """An npm-like registry on 127.0.0.1 answering the tarballs put in its dict by path."""
    served: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = served.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()


def test_the_pinned_bytes_are_installed_and_other_bytes_are_refused(
    registry: tuple[str, dict[str, bytes]], tmp_path: Path
) -> None:
    url, served = registry
    good = tarball(SCRIPT)
    asset = replace(HTMX, registry=url, vendor=tmp_path / "vendor", integrity=integrity(good))
    path = f"/{asset.package}/-/{asset.package}-{asset.version}.tgz"

    served[path] = tarball(b"/* altered */ alert(1);")
    with pytest.raises(AssetError, match="校验值不符"):
        fetch(asset)
    assert not asset.path.exists()
    assert not asset.installed

    served[path] = good
    assert fetch(asset) == asset.path
    assert asset.path.read_bytes() == SCRIPT
    assert asset.installed

    # Another version pinned: the file on disk is not it, so it is fetched again.
    newer = replace(asset, integrity=integrity(b"another tarball"))
    assert not newer.installed


def test_a_registry_that_cannot_be_reached_is_named(tmp_path: Path) -> None:
    asset = replace(HTMX, registry="http://127.0.0.1:9", vendor=tmp_path / "vendor")
    with pytest.raises(AssetError, match=re.escape("无法下载 http://127.0.0.1:9/htmx.org/")):
        fetch(asset, timeout=5)
