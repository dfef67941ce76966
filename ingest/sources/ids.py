"""Identifiers and links shared by the paper sources: arXiv ids, INSPIRE links, collaborations."""

from __future__ import annotations

import re

COLLABORATION = re.compile(
    r"\b(ATLAS|CMS|LHCb|ALICE|Belle II|Belle|BaBar|CDF|D0|DØ|ZEUS|H1|LEP|ALEPH|DELPHI|L3|OPAL|"
    r"IceCube|Super-Kamiokande|T2K|NOvA|DUNE|sPHENIX|PHENIX|STAR|ISOLDE|NA62|COMPASS|KATRIN|Fermi-LAT)"
    r"\s+(and\s+\w+\s+)?Collaborations?\b"
)
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
