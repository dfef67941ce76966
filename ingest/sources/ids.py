"""Identifiers and links shared by the paper sources: arXiv ids, report numbers, INSPIRE links."""

from __future__ import annotations

import re

COLLABORATION = re.compile(
    r"\b(ATLAS|CMS|LHCb|ALICE|Belle II|Belle|BaBar|CDF|D0|DØ|ZEUS|H1|LEP|ALEPH|DELPHI|L3|OPAL|"
    r"IceCube|Super-Kamiokande|T2K|NOvA|DUNE|sPHENIX|PHENIX|STAR|ISOLDE|NA62|COMPASS|KATRIN|Fermi-LAT)"
    r"\s+(and\s+\w+\s+)?Collaborations?\b"
)
REPORT_NUMBER = re.compile(
    r"\b(HSF-(?:TN|DOC|CWP)-\d{4}-\d{2,3}"
    r"|CERN-(?:[A-Z]{2,6}-)?[A-Z]{2,6}[-/]\d{4}-\d{3,4}"
    r"|(?:ATLAS|CMS|LHCb|ALICE)-[A-Z]{2,5}-\d{2,4}-\d{2,3}"
    r"|FERMILAB-[A-Z]{2,5}-\d{2,4}-\d{2,4}"
    r"|SLAC-PUB-\d{3,6})\b",
    re.IGNORECASE,
)


def normal_report_number(text: str) -> str:
    """'cern-ep/2018-223' -> 'CERN-EP-2018-223'."""
    return text.upper().replace("/", "-")


def report_numbers(text: str) -> list[str]:
    return list(dict.fromkeys(normal_report_number(m.group(1)) for m in REPORT_NUMBER.finditer(text)))


def title_page_numbers(front: str) -> list[str]:
    """Report numbers standing on a line of their own (a title-page stamp or ID table cell), not the
    ones a sentence mentions ('updates HSF-TN-2016-04', 'the Roadmap HSF-CWP-2017-01')."""
    lines = (
        re.sub(r"[&\\{}\[\]~\s]+|^(report\s*(no|number)\.?:?)", "", line, flags=re.I)
        for line in re.split(r"\n|\\\\", front)  # lines, and rows of a LaTeX table
    )
    return list(dict.fromkeys(normal_report_number(x) for x in lines if REPORT_NUMBER.fullmatch(x)))


ARXIV_VERSION = re.compile(r"^(?P<base>.+?)(v(?P<version>\d+))?$")


def split_arxiv_id(arxiv_id: str) -> tuple[str, int | None]:
    """'2007.07830v2' -> ('2007.07830', 2); '2007.07830' -> ('2007.07830', None)."""
    arxiv_id = arxiv_id.removeprefix("arXiv:").strip()
    match = ARXIV_VERSION.match(arxiv_id)
    assert match is not None
    version = match.group("version")
    return match.group("base"), int(version) if version else None


def arxiv_links(base_id: str, version: int | None = None) -> dict[str, str]:
    """Abstract, PDF and INSPIRE links for an arXiv paper."""
    full = f"{base_id}v{version}" if version else base_id
    return {
        "abs": f"https://arxiv.org/abs/{full}",
        "pdf": f"https://arxiv.org/pdf/{full}",
        "inspire": f"https://inspirehep.net/arxiv/{base_id}",
    }


def find_collaboration(text: str) -> str | None:
    """The first 'X Collaboration' named in a text (first pages of a paper), e.g. 'ATLAS'."""
    match = COLLABORATION.search(text)
    return match.group(1) if match else None
