"""Safe extraction of untrusted archives (.tar, .tar.gz/.tgz, bz2/xz, single gzip); arXiv source archives.

arXiv serves a paper's source either as a gzip-compressed tar or, for a one-file paper, as one
gzip-compressed `.tex`. Both are untrusted: every member name is checked (no absolute paths, no
`..`, no links or device files), members are counted, and the decompressed bytes are counted while
they stream (sizes in headers are never trusted). Files are only ever written below `dest`.
The registered parser unpacks a source archive into a temp folder and reads the LaTeX inside.
"""

from __future__ import annotations

import bz2
import gzip
import logging
import lzma
import os
import re
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO

from heprag.index.errors import LimitExceededError, ParseError
from heprag.index.types import Document
from heprag.ingest.sources.base import FileParser, ParseLimits, check_file_size, register
from heprag.ingest.sources.latex import ARXIV_NAME, find_main, parse_tree

log = logging.getLogger(__name__)

_CHUNK = 1 << 16
_PAYLOAD = ".heprag-payload"
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


class _Budget:
    """Decompressed bytes written so far, against `limits.max_decompressed_bytes`."""

    def __init__(self, archive: Path, limits: ParseLimits) -> None:
        self.archive, self.limit, self.used = archive, limits.max_decompressed_bytes, 0

    def spend(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            raise LimitExceededError(
                f"{self.archive}: decompresses to more than {self.limit:,} bytes "
                "(a decompression bomb, or raise ingest.max_decompressed_bytes to accept it)"
            )


def _open_decompressed(path: Path) -> IO[bytes]:
    """The archive's byte stream with its outer compression (gzip, bzip2, xz or none) removed."""
    with path.open("rb") as raw:
        magic = raw.read(6)
    if magic[:2] == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if magic[:3] == b"BZh":
        return bz2.open(path, "rb")
    if magic == b"\xfd7zXZ\x00":
        return lzma.open(path, "rb")
    return path.open("rb")


def _copy(src: IO[bytes], dst: IO[bytes], budget: _Budget) -> None:
    while chunk := src.read(_CHUNK):
        budget.spend(len(chunk))
        dst.write(chunk)


def _safe_member_path(archive: Path, name: str) -> PurePosixPath:
    """The relative path a member may be written to; ParseError for absolute or escaping names."""
    unsafe = f"{archive}: archive member '{name}'"
    if name.startswith(("/", "\\")) or _WINDOWS_DRIVE.match(name):
        raise ParseError(str(archive), f"{unsafe} has an absolute path; refusing to unpack an unsafe archive")
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ParseError(str(archive), f"{unsafe} escapes the extraction folder ('..'); refusing to unpack")
    if not parts or "\x00" in name:
        raise ParseError(str(archive), f"{unsafe} has an unusable name")
    return PurePosixPath(*parts)


def _check_member_type(archive: Path, member: tarfile.TarInfo) -> None:
    if member.issym() or member.islnk():
        raise ParseError(
            str(archive),
            f"archive member '{member.name}' is a link to '{member.linkname}'; links are not accepted "
            "in untrusted archives (unpack it yourself and ingest the folder)",
        )
    if not (member.isfile() or member.isdir()):
        raise ParseError(
            str(archive), f"archive member '{member.name}' is a device, FIFO or other special file; refusing"
        )


def _extract_tar(
    archive: Path, tar_path: Path, dest: Path, limits: ParseLimits, budget: _Budget
) -> list[Path]:
    root = dest.resolve()
    written: list[Path] = []
    count = 0
    with tar_path.open("rb") as fileobj, tarfile.open(fileobj=fileobj, mode="r|") as tar:
        for member in tar:
            count += 1
            if count > limits.max_archive_members:
                raise LimitExceededError(
                    f"{archive}: more than {limits.max_archive_members:,} archive members "
                    "(raise ingest.max_archive_members to accept it)"
                )
            relative = _safe_member_path(archive, member.name)
            _check_member_type(archive, member)
            target = root.joinpath(*relative.parts)
            if not target.resolve().is_relative_to(root):  # defence in depth: nothing links out of root
                raise ParseError(str(archive), f"archive member '{member.name}' resolves outside {dest}")
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            if source is None:
                continue
            with source, target.open("wb") as out:
                _copy(source, out, budget)
            written.append(target)
    return sorted(set(written))


def _is_tar(path: Path) -> bool:
    """True for an uncompressed tar (checked without any transparent decompression)."""
    try:
        with path.open("rb") as fileobj, tarfile.open(fileobj=fileobj, mode="r:") as tar:
            return tar.next() is not None
    except (tarfile.TarError, OSError, ValueError, UnicodeDecodeError):
        return False


def single_file_name(archive: Path) -> str:
    """Name for the one file inside a plain gzip: '2212.11867.gz' -> '2212.11867'."""
    name = archive.name
    for suffix in (".gz", ".bz2", ".xz"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)] or "source"
    return name + ".out"


def safe_extract(archive: Path, dest: Path, limits: ParseLimits = ParseLimits()) -> list[Path]:
    """Unpack `archive` below the existing folder `dest`; return the regular files written, sorted.

    A tar (plain or gzip/bzip2/xz-compressed) is unpacked member by member; anything else that is
    compressed (arXiv's one-file sources) becomes one file named after the archive without `.gz`.
    Raises ParseError for unsafe or corrupt archives, LimitExceededError for too many members or
    too many decompressed bytes; on error, `dest` may hold partial output (callers use a temp dir).
    """
    check_file_size(archive, limits)
    if not dest.is_dir():
        raise ParseError(str(dest), "the extraction folder does not exist")
    budget = _Budget(archive, limits)
    payload = dest / _PAYLOAD
    try:
        with _open_decompressed(archive) as stream, payload.open("wb") as out:
            _copy(stream, out, budget)
    except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
        payload.unlink(missing_ok=True)
        raise ParseError(str(archive), f"not a readable archive ({exc})") from exc
    try:
        if _is_tar(payload):
            members_budget = _Budget(archive, limits)
            try:
                return _extract_tar(archive, payload, dest, limits, members_budget)
            except (tarfile.TarError, EOFError, OSError) as exc:
                raise ParseError(str(archive), f"corrupt tar archive ({exc})") from exc
        if payload.stat().st_size == 0:
            raise ParseError(str(archive), "the archive is empty")
        target = dest / _safe_member_path(archive, single_file_name(archive)).name
        os.replace(payload, target)
        return [target]
    finally:
        payload.unlink(missing_ok=True)


@contextmanager
def extracted(archive: Path, limits: ParseLimits = ParseLimits()) -> Iterator[tuple[Path, list[Path]]]:
    """Unpack into a fresh temporary folder, yield (folder, files), and delete the folder afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix="heprag-archive-"))
    try:
        yield tmp, safe_extract(archive, tmp, limits)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def archive_stem(path: Path) -> str:
    """'2212.11867v1.tar.gz' -> '2212.11867v1'."""
    for suffix in (".tar.gz", ".tgz", ".tar", ".gz"):
        if path.name.lower().endswith(suffix):
            return path.name[: -len(suffix)]
    return path.stem


def parse_source_archive(path: Path, limits: ParseLimits = ParseLimits()) -> Iterator[Document]:
    """An arXiv source archive (tar.gz, or one gzip-compressed .tex): LaTeX read from a temp folder."""
    with extracted(path, limits) as (folder, files):
        candidates = [f for f in files if f.suffix.lower() == ".tex"] or (files if len(files) == 1 else [])
        if not candidates:
            raise ParseError(str(path), "the archive holds no .tex file; ingest the paper's PDF instead")
        document = parse_tree(find_main(candidates), folder, limits, [archive_stem(path)], path)
    yield document


def is_source_archive(path: Path) -> bool:
    """Tarballs, and a plain `.gz` only when named by an arXiv id (arXiv's one-file sources)."""
    tar = path.name.lower().endswith((".tar.gz", ".tgz", ".tar"))
    return tar or (path.name.lower().endswith(".gz") and bool(ARXIV_NAME.match(archive_stem(path))))


register(FileParser("latex-archive", is_source_archive, parse_source_archive))
