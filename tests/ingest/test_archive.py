"""Safe extraction of untrusted archives, with tarballs built at test time from the real HSF sources."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest

from heprag.index.errors import LimitExceededError, ParseError
from heprag.ingest.sources.archive import (
    extracted,
    is_source_archive,
    parse_source_archive,
    safe_extract,
)
from heprag.ingest.sources.base import ParseLimits
from tests.conftest import require_corpus


@pytest.fixture(scope="module")
def whitepaper_dir() -> Path:
    """HSF-TN-2024-01 (arXiv:2404.02100): whitepaper.tex, nine \\input files and whitepaper.bib."""
    return require_corpus("latex", "hsf", "HSF-TN", "2024-01", "latex")


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def _special(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info, None


def _files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture()
def work(tmp_path: Path) -> Path:
    """The extraction folder; tests check that nothing appears beside it, in tmp_path."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def test_real_arxiv_source_tarball_unpacks_and_parses_like_its_folder(
    whitepaper_dir: Path, tmp_path: Path, work: Path
) -> None:
    archive = tmp_path / "2404.02100v2.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(whitepaper_dir.iterdir()):
            tar.add(path, arcname=f"src/{path.name}")
    written = safe_extract(archive, work)
    assert {p.relative_to(work).as_posix() for p in written} == {
        f"src/{p.name}" for p in whitepaper_dir.iterdir()
    }
    assert (work / "src" / "doma.tex").read_bytes() == (whitepaper_dir / "doma.tex").read_bytes()

    assert is_source_archive(archive)
    document = next(parse_source_archive(archive))
    assert document.doc_id == "arXiv:2404.02100v2"
    assert document.links["abs"] == "https://arxiv.org/abs/2404.02100v2"
    assert document.path == str(archive)
    assert document.extra["main_file"] == "src/whitepaper.tex"
    assert document.title == "Analysis Facilities for the HL-LHC White Paper"
    assert any(b.section[:1] == ["4 DOMA (Data Organisation, Management, Access)"] for b in document.blocks)
    assert document.extra["unresolved_citations"] == 0


def test_the_temporary_folder_is_removed_after_parsing(whitepaper_dir: Path, tmp_path: Path) -> None:
    archive = _tar(
        tmp_path / "paper.tgz", [_file("main.tex", (whitepaper_dir / "introduction.tex").read_bytes())]
    )
    with extracted(archive) as (folder, files):
        assert files == [folder / "main.tex"]
    assert not folder.exists()


def test_single_gzip_compressed_tex_as_arxiv_serves_it(tmp_path: Path, work: Path) -> None:
    tex = require_corpus("latex", "hsf", "HSF-TN", "2016-01", "HSF-TN-2016-01.tex")
    archive = tmp_path / "HSF-TN-2016-01.gz"
    archive.write_bytes(gzip.compress(tex.read_bytes()))
    assert safe_extract(archive, work) == [work / "HSF-TN-2016-01"]
    document = next(parse_source_archive(archive))
    assert document.doc_id == "tex:HSF-TN-2016-01"
    assert document.title == "Software Licence Agreements HSF Policy Guidelines"
    assert is_source_archive(tmp_path / "2212.11867.gz") and not is_source_archive(
        tmp_path / "records.xml.gz"
    )


@pytest.mark.parametrize(
    "name", ["../evil.tex", "src/../../evil.tex", "/tmp/heprag-evil.tex", "..\\evil.tex", "C:/evil.tex"]
)
def test_member_escaping_the_folder_is_rejected(name: str, tmp_path: Path, work: Path) -> None:
    archive = _tar(tmp_path / "evil.tar.gz", [_file("ok.tex", b"fine"), _file(name, b"PWNED")])
    with pytest.raises(ParseError, match=r"absolute path|escapes the extraction folder"):
        safe_extract(archive, work)
    assert not (tmp_path / "evil.tex").exists() and not Path("/tmp/heprag-evil.tex").exists()
    assert _files_under(tmp_path) <= {"evil.tar.gz", "work/ok.tex"}


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE])
def test_links_are_rejected_and_nothing_is_written_through_them(
    kind: bytes, tmp_path: Path, work: Path
) -> None:
    target = tmp_path / "outside.txt"
    target.write_text("original")
    members = [_special("link.tex", kind, str(target)), _file("link.tex", b"overwritten through the link")]
    archive = _tar(tmp_path / "links.tar.gz", members)  # type: ignore[arg-type]
    with pytest.raises(ParseError, match="is a link to"):
        safe_extract(archive, work)
    assert target.read_text() == "original"
    assert not (work / "link.tex").exists()


def test_device_files_are_rejected(tmp_path: Path, work: Path) -> None:
    archive = _tar(tmp_path / "dev.tar", [_special("null", tarfile.CHRTYPE)], mode="w")
    with pytest.raises(ParseError, match="device"):
        safe_extract(archive, work)
    assert _files_under(work) == set()


def test_decompression_bomb_is_stopped_while_streaming(tmp_path: Path, work: Path) -> None:
    archive = _tar(tmp_path / "bomb.tar.gz", [_file("zeros.tex", bytes(20_000_000))])
    assert archive.stat().st_size < 100_000  # 20 MB of zeros compress to almost nothing
    limits = ParseLimits(max_decompressed_bytes=1_000_000)
    with pytest.raises(LimitExceededError, match="max_decompressed_bytes"):
        safe_extract(archive, work, limits)
    assert sum(p.stat().st_size for p in work.rglob("*") if p.is_file()) <= 1_100_000


def test_single_gzip_bomb_without_any_header_is_stopped(tmp_path: Path, work: Path) -> None:
    archive = tmp_path / "2212.99999.gz"
    archive.write_bytes(gzip.compress(bytes(5_000_000)))
    with pytest.raises(LimitExceededError):
        safe_extract(archive, work, ParseLimits(max_decompressed_bytes=100_000))


def test_too_many_members_is_a_limit_error(tmp_path: Path, work: Path) -> None:
    archive = _tar(tmp_path / "many.tar.gz", [_file(f"f{i}.tex", b"x") for i in range(10)])
    with pytest.raises(LimitExceededError, match="more than 5 archive members"):
        safe_extract(archive, work, ParseLimits(max_archive_members=5))
    assert len(safe_extract(archive, work, ParseLimits(max_archive_members=10))) == 10


def test_corrupt_or_latex_free_archives_give_actionable_errors(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.tar.gz"
    corrupt.write_bytes(b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4)
    with pytest.raises(ParseError, match="not a readable archive"):
        next(parse_source_archive(corrupt))
    figures = _tar(
        tmp_path / "figures.tar.gz", [_file("fig1.pdf", b"%PDF-1.4"), _file("notes.bib", b"@misc{a,}")]
    )
    with pytest.raises(ParseError, match=r"no \.tex file"):
        next(parse_source_archive(figures))
