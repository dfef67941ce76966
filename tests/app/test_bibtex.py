"""BibTeX entries for indexed documents: keys, arXiv fields, escaping."""

from __future__ import annotations

import datetime as dt
import re

from heprag.app.bibtex import bibtex, is_inspire_texkey, texkey
from heprag.app.library import Library
from heprag.index.types import Document


def doc(**kw: object) -> Document:
    base: dict[str, object] = {
        "doc_id": "arXiv:2007.07830v2",
        "title": "A search for the dimuon decay of the Standard Model Higgs boson",
        "collaboration": "ATLAS",
        "date": dt.date(2020, 7, 15),
        "categories": ["hep-ex"],
        "links": {"abs": "https://arxiv.org/abs/2007.07830v2"},
    }
    return Document(**{**base, **kw})  # type: ignore[arg-type]


def fields(entry: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+(\w+) = (.*?),?$", entry, re.M))


def test_inspire_texkey_is_used_when_enrichment_found_one() -> None:
    entry = bibtex(doc(extra={"texkey": "ATLAS:2020fzp"}))
    assert entry.startswith("@article{ATLAS:2020fzp,\n") and entry.rstrip().endswith("}")


def test_a_generated_key_is_stable_and_visibly_local_never_inspire_shaped() -> None:
    key = texkey(doc())
    assert re.fullmatch(r"heprag:ATLAS\.2020\.[a-z]{3}", key) and key == texkey(doc())
    assert not is_inspire_texkey(key) and is_inspire_texkey(texkey(doc(extra={"texkey": "ATLAS:2020fzp"})))
    assert not re.fullmatch(r"[A-Za-z-]+:\d{4}[a-z]{2,3}", key)  # INSPIRE's own shape, e.g. CMS:2013bpc
    assert texkey(doc(doc_id="arXiv:1804.02610v2")) != key
    no_collab = doc(collaboration=None, authors=["Ellis, John", "Gaillard, M.K."], date=None)
    assert re.fullmatch(r"heprag:Ellis\.nd\.[a-z]{3}", texkey(no_collab))
    assert texkey(doc(collaboration=None, authors=["Sébastien Müller"])).startswith("heprag:Muller.2020.")
    assert bibtex(doc()).startswith("@article{heprag:ATLAS.2020.")


def test_arxiv_paper_fields() -> None:
    f = fields(bibtex(doc(extra={"doi": "10.1016/j.physletb.2020.135980", "journal": "Phys. Lett. B"})))
    assert f["author"] == "{{ATLAS Collaboration}}" and f["collaboration"] == "{ATLAS}"
    assert f["title"] == "{{A search for the dimuon decay of the Standard Model Higgs boson}}"
    assert f["year"] == "2020" and f["eprint"] == "{2007.07830}" and f["archivePrefix"] == "{arXiv}"
    assert f["primaryClass"] == "{hep-ex}" and f["journal"] == "{Phys. Lett. B}"
    assert (
        f["doi"] == "{10.1016/j.physletb.2020.135980}" and f["url"] == "{https://arxiv.org/abs/2007.07830v2}"
    )


def test_specials_are_escaped_and_unbalanced_braces_dropped() -> None:
    f = fields(bibtex(doc(title="Top & bottom: 5% of {events_x", authors=["O'Neil, A_B"])))
    assert f["title"] == r"{{Top \& bottom: 5\% of events\_x}}"
    assert f["author"] == r"{O'Neil, A\_B}"


def test_logbook_entries_are_misc_without_eprint() -> None:
    entry = bibtex(doc(doc_id="elog:ISOLDE/412", source_type="logbook", collaboration=None, categories=[]))
    assert entry.startswith("@misc{") and "eprint" not in entry


def test_every_indexed_real_paper_gets_a_parseable_entry(library: Library) -> None:
    for document in library.index.meta.documents():
        entry = bibtex(document)
        assert entry.count("{") == entry.count("}"), entry
        assert fields(entry)["eprint"] == "{" + document.doc_id.removeprefix("arXiv:").split("v")[0] + "}"
