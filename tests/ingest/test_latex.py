"""The LaTeX parser on the real HSF sources, plus small documents written by the tests themselves."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from heprag.index.errors import LimitExceededError, ParseError
from heprag.index.types import Document
from heprag.ingest.sources.base import ParseLimits
from heprag.ingest.sources.latex import find_main, latex_to_text, parse_bib, parse_latex, strip_comments
from heprag.ingest.sources.pdf import parse_pdf
from tests.conftest import require_corpus


@pytest.fixture(scope="module")
def hsf() -> Path:
    return require_corpus("latex", "hsf")


@pytest.fixture(scope="module")
def whitepaper(hsf: Path) -> Document:
    return next(parse_latex(hsf / "HSF-TN" / "2024-01" / "latex" / "whitepaper.tex"))


@pytest.fixture(scope="module")
def roadmap(hsf: Path) -> Document:
    """The CWP roadmap (arXiv:1712.06982): 200 kB cwp-main.tex through \\input, biblatex, two .bib files."""
    return next(parse_latex(hsf / "CWP" / "papers" / "HSF-CWP-2017-01_roadmap" / "latex" / "cwp-arxiv.tex"))


def _text(document: Document) -> str:
    return "\n".join(block.text for block in document.blocks)


def test_inputs_are_resolved_and_sections_come_from_the_included_files(whitepaper: Document) -> None:
    top = [b.section[0] for b in whitepaper.blocks if b.section and b.section[0] != "Abstract"]
    assert list(dict.fromkeys(top)) == [
        "1 Introduction", "2 User perspective", "3 Compute resources: access and provisioning",
        "4 DOMA (Data Organisation, Management, Access)", "5 Federated Identity Management and AAI",
        "6 Accelerator Resources", "7 Analysis portability and preservation", "8 Monitoring and Metrics",
        "9 End user documentation", "10 Summary",
    ]  # fmt: skip
    assert "Analysis Facility (from here on abbreviated to AF)" in _text(whitepaper)  # from introduction.tex


def test_title_authors_and_abstract_come_from_the_title_page(whitepaper: Document) -> None:
    assert whitepaper.doc_id == "tex:whitepaper"
    assert whitepaper.title == "Analysis Facilities for the HL-LHC White Paper"
    assert len(whitepaper.authors) > 50 and {"L. Heinrich", "G. Watts", "T. Šimko"} <= set(whitepaper.authors)
    abstract = [b for b in whitepaper.blocks if b.kind == "abstract"]
    assert len(abstract) == 1 and abstract[0].section == ["Abstract"]
    assert abstract[0].text.startswith("This white paper presents the current status of the R&D for Analysis")
    assert "forum [1]" in abstract[0].text  # \cite{hsfaff} numbered by first citation


def test_citations_resolve_against_the_bib_file(whitepaper: Document) -> None:
    assert whitepaper.extra["unresolved_citations"] == 0
    first = whitepaper.references[0]
    assert first.key == "hsfaff" and first.text.startswith("HSF Analysis Facilities Forum")
    assert all(ref.text != ref.key for ref in whitepaper.references)


def test_fragments_read_through_their_main_file_yield_nothing(hsf: Path) -> None:
    fragment = hsf / "HSF-TN" / "2024-01" / "latex" / "introduction.tex"
    assert list(parse_latex(fragment)) == []


def test_a_source_folder_is_parsed_from_its_main_file(hsf: Path, whitepaper: Document) -> None:
    folder = hsf / "HSF-TN" / "2024-01" / "latex"
    document = next(parse_latex(folder))
    assert document.extra["main_file"] == "whitepaper.tex" and document.blocks == whitepaper.blocks
    roadmap = sorted((hsf / "CWP" / "papers" / "HSF-CWP-2017-01_roadmap").rglob("*.tex"))
    assert find_main(roadmap).name == "cwp-arxiv.tex"  # over the Springer cwp-csbs.tex and a stub


def test_roadmap_keeps_tables_captions_and_arxiv_ids_of_references(roadmap: Document) -> None:
    assert roadmap.title == "A Roadmap for HEP Software and Computing R&D for the 2020s"
    captions = [b.text for b in roadmap.blocks if b.kind == "caption"]
    assert captions[0].startswith("Figure 1: The current schedule for the LHC and HL-LHC upgrade")
    table = next(b for b in roadmap.blocks if b.kind == "table")
    assert "ATLAS | 172 | 251 | 423 | 2194" in table.text.splitlines()
    assert table.section == ["2 Software and Computing Challenges"]
    assert "(Figure 1)" in _text(roadmap)  # \ref resolved to the figure number
    by_key = {ref.key: ref for ref in roadmap.references}
    assert (
        by_key["Aaij2016"].arxiv_id == "1604.05596" and by_key["Aaij2016"].doi == "10.1016/j.cpc.2016.07.022"
    )
    assert roadmap.extra["unresolved_citations"] == 0 and len(roadmap.references) > 150
    assert "\\cite" not in _text(roadmap) and "<cit.>" not in _text(roadmap)


def test_display_equations_are_kept_verbatim(hsf: Path) -> None:
    document = next(parse_latex(hsf / "CWP" / "papers" / "HSF-CWP-2017-11_generators" / "latex" / "main.tex"))
    text = _text(document)
    equation = (
        "\\begin{equation}\\label{me_re-weighting}\nW_{new} = \\frac{|M_{new}|^2}{|M_{orig}|^2}W_{orig}."
    )
    assert equation + "\n\\end{equation}" in text
    assert "(the second term in Eq. 1," in text and "in Eq. (1) contains" in text  # \ref and \eqref
    assert "(W_new)" in text  # inline math goes through pylatexenc


def test_thebibliography_and_numbered_subsections(hsf: Path) -> None:
    document = next(parse_latex(hsf / "HSF-TN" / "2016-01" / "HSF-TN-2016-01.tex"))
    assert document.title == "Software Licence Agreements HSF Policy Guidelines"
    assert document.authors == ["M. Jouvin", "J. Harvey", "A. McNab", "E. Sexton-Kennedy", "T. Wenaus"]
    assert ["3 Main License Types", "3.1 Copyleft License"] in [b.section for b in document.blocks]
    assert len(document.references) == 14 and document.references[0].key == "[1]"
    assert "http://indico.cern.ch/category/4252/" in document.references[0].text


def test_section_titles_agree_with_the_pdf_of_the_same_paper(hsf: Path, whitepaper: Document) -> None:
    """Issue #3's measurement on two real pairs (the full table: benchmarks/parse_quality.py)."""

    def titles(document: Document) -> set[str]:
        bare = {re.sub(r"^[\dA-Z](\.\d+)*\s+", "", t).casefold() for b in document.blocks for t in b.section}
        return bare - {"abstract"}

    technote = hsf / "HSF-TN" / "2016-01" / "HSF-TN-2016-01"
    tex, pdf = (
        titles(next(parse_latex(technote.with_suffix(".tex")))),
        titles(next(parse_pdf(technote.with_suffix(".pdf")))),
    )
    print(f"\nHSF-TN-2016-01: {len(tex & pdf)}/{len(tex)} LaTeX section titles found in the PDF")
    assert tex == pdf and len(tex) == 14
    pdf_titles = titles(next(parse_pdf(hsf / "HSF-TN" / "2024-01" / "2404.02100v2.pdf")))
    numbered = {
        t
        for t in titles(whitepaper)
        if t in {"introduction", "user perspective", "summary", "accelerator resources"}
    }
    found = len(pdf_titles & titles(whitepaper))
    print(f"2404.02100: {found}/{len(pdf_titles)} PDF section titles found in the LaTeX")
    assert pdf_titles <= titles(whitepaper) and numbered <= pdf_titles


def test_every_hsf_technical_note_parses_and_fragments_yield_nothing(hsf: Path) -> None:
    for path in sorted((hsf / "HSF-TN").rglob("*.tex")):
        documents = list(parse_latex(path))
        assert len(documents) == (0 if path.parent.name == "latex" and path.stem != "whitepaper" else 1), path
        for document in documents:
            assert document.title and document.blocks and all(b.text.strip() for b in document.blocks), path
            assert not any("HEPRAG" in b.text or "\\cite" in b.text for b in document.blocks), path
    with pytest.raises(ParseError, match="no text"):  # its \input{authors.tex} lives in another folder
        next(parse_latex(hsf / "CWP" / "papers" / "HSF-CWP-2017-01_roadmap" / "authors" / "author_stub.tex"))


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


MAIN = r"""\documentclass{article}
\newcommand{\hep}{High-Energy Physics\xspace}
\title{A \hep Test\thanks{Written by the test.}}
\author{A. Author \and B. Author}
\begin{document}
\maketitle
\begin{abstract}
We test 95\% of it.% a comment that must vanish
\end{abstract}
\section{Intro}\label{sec:intro}
Text about \hep with a citation~\cite{alpha,beta} and again~\cite{alpha}.
% \section{Commented out}
$$E = mc^2$$
\begin{align}
a &= b \\ c &= d
\end{align}
See Section~\ref{sec:method} and Figure~\ref{fig:plot}.
\input{body}
\input{../outside}
\begin{figure}\caption{A plot of $x_1$.}\label{fig:plot}\end{figure}
\begin{verbatim}
int main() { return 0; }  % not a comment
\end{verbatim}
\appendix
\section{Extra}
Appendix text.
\bibliography{refs}
\end{document}
"""


def test_a_written_document_exercises_every_feature(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    source = tmp_path / "src"
    main = _write(source, "main.tex", MAIN)
    _write(source, "body.tex", "\\section{Method}\\label{sec:method}\n\\subsection{Details}\nBody text.\n")
    _write(tmp_path, "outside.tex", "SECRET from outside the source folder\n")
    bib = '@article{alpha, author = "Doe, J. and others", title = "{Alpha}", eprint = "2101.00001",\n'
    bib += "doi = {10.1000/xyz}}\n@misc{beta, title = {Beta}, url = {https://example.org/beta}}\n@misc{gamma}"
    _write(source, "refs.bib", bib)
    with caplog.at_level(logging.WARNING):
        document = next(parse_latex(main))
    text = _text(document)
    assert document.title == "A High-Energy Physics Test" and document.authors == ["A. Author", "B. Author"]
    assert [b.text for b in document.blocks if b.kind == "abstract"] == ["We test 95% of it."]
    assert "Text about High-Energy Physics with a citation [1, 2] and again [1]." in text
    assert "$$E = mc^2$$" in text and "\\begin{align}\na &= b \\\\ c &= d\n\\end{align}" in text
    assert "See Section 2 and Figure 1." in text
    assert "Commented out" not in text and "SECRET" not in text
    assert "outside the source folder" in caplog.text
    assert ["2 Method", "2.1 Details"] in [b.section for b in document.blocks]
    assert next(b for b in document.blocks if b.kind == "caption").text == "Figure 1: A plot of x_1."
    assert "int main() { return 0; }  % not a comment" in text
    assert ["A Extra"] in [b.section for b in document.blocks]
    alpha, beta = document.references
    assert (alpha.key, alpha.arxiv_id, alpha.doi) == ("alpha", "2101.00001", "10.1000/xyz")
    assert alpha.text == "Doe, J. et al., Alpha" and beta.text == "Beta, https://example.org/beta"


def test_recursive_inputs_and_oversized_sources_are_bounded(tmp_path: Path) -> None:
    main = _write(
        tmp_path,
        "main.tex",
        "\\documentclass{article}\\begin{document}\nHello.\n\\input{loop}\\end{document}",
    )
    _write(tmp_path, "loop.tex", "Loop text.\n\\input{loop}\n\\input{main}\n")
    assert "Loop text." in _text(next(parse_latex(main)))
    fan = "\n".join(["\\input{leaf}"] * 50)
    _write(tmp_path, "fan.tex", "\\documentclass{article}\\begin{document}\n" + fan + "\\end{document}")
    _write(tmp_path, "leaf.tex", "x" * 10_000)
    with pytest.raises(LimitExceededError, match="max_file_bytes"):
        next(parse_latex(tmp_path / "fan.tex", ParseLimits(max_file_bytes=100_000)))


def test_helpers_never_raise_on_malformed_latex() -> None:
    assert latex_to_text(r"\href{http://x}{text} and \textbf{unclosed {").strip() == "text and unclosed"
    assert latex_to_text("{" * 5000 + "deep").strip().endswith("deep")  # RecursionError falls back
    assert strip_comments("50\\% kept % dropped\nnext") == "50\\% kept next"
    assert set(parse_bib("@article{broken, title = {never closed @misc{x,")) == {"broken", "x"}


SECRET = "-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjEAAAAABG5vbmUtest-written"
PAPER = r"""\documentclass{article}
\title{Calibration of a Test Calorimeter}
\begin{document}
\section{Introduction}
The calorimeter was calibrated with electrons from Z boson decays~\cite{k1}; the energy scale is known
to a precision of one per mille after the in-situ correction of the front-end timing.
\input{.ssh/id_rsa}
\include{.git/config}
\input{notes}
\input{/etc/hostname}
\bibliography{.secrets/keys}
\end{document}
"""


def test_inputs_never_reach_hidden_or_vcs_paths_and_the_report_says_why(tmp_path: Path) -> None:
    from heprag.app.library import Library
    from heprag.app.settings import load_settings

    paper = tmp_path / "paper"
    _write(paper, "main.tex", PAPER)
    _write(paper, ".ssh/id_rsa", SECRET + "\n")
    _write(paper, ".git/config", f"[remote] url = {SECRET}\n")
    _write(paper, ".secrets/keys.bib", f"@misc{{k1, title = {{{SECRET}}}}}\n")
    (paper / "notes.tex").symlink_to(paper / ".ssh" / "id_rsa")  # a symlink is judged by its target
    index = tmp_path / "idx"

    report = Library(load_settings(index_dir=index)).ingest([paper])

    assert [d.split("@")[0] for d in report.added] == ["tex:main"] and not report.failed
    stored = b"".join(p.read_bytes() for p in index.glob("segments/seg-*/metadata.sqlite"))
    assert stored
    assert (
        b"OPENSSH" not in stored and b"b3BlbnNzaC1rZXkt" not in stored
    )  # in no chunk, document or reference
    assert b"calibrated with electrons" in stored
    warnings = {w.reason for w in report.warnings}
    assert all(w.path == str(paper / "main.tex") for w in report.warnings)
    assert {
        "main.tex: \\input{.ssh/id_rsa} refused: '.ssh' is a hidden or version-control path",
        "main.tex: \\include{.git/config} refused: '.git' is a hidden or version-control path",
        "main.tex: \\input{notes} refused: '.ssh' is a hidden or version-control path",
        "main.tex: \\input{/etc/hostname} refused: it points outside the source folder",
        "main.tex: \\bibliography{.secrets/keys} refused: '.secrets' is a hidden or version-control path",
    } == warnings
    saved = sorted((index / "reports").glob("ingest-*.json"))[-1].read_text()
    assert "\\\\input{.ssh/id_rsa} refused" in saved  # the saved JSON report carries them too
