"""Parse quality measured on the real corpus (issue #3): section titles and token F1 of PDF text.

Two independent references check `parse_pdf`:

1. HSF papers that ship their LaTeX source beside the PDF: the section titles `parse_latex` finds
   against those `parse_pdf` finds. Titles are compared without numbering, case and punctuation; a
   title matches when difflib's ratio is >= 0.9 (ligatures, hyphenation). Three PDFs are other
   versions of their text than the LaTeX (the training chapter's PDF is a June 2017 draft whose own
   outline lists "Motivation", "Challenges", "Implementation Roadmap"; the detector-simulation and
   DOMA PDFs are the Google Docs the LaTeX was later converted from, with renamed sections), so
   the token F1 of the two bodies is reported beside each pair, and the PDF's own outline
   (bookmarks) where it has one. HSF-TN-2018-01's "3 Examples" holds only `\texttt` lines, of
   which `parse_latex` makes no block: its one "unmatched" PDF title is a LaTeX-side gap.
2. arXiv:1503.08988 against the Nougat text of its journal version (CERN CDS 2004911): token
   precision/recall/F1 of the two bodies (references excluded on both sides). Normalisation,
   applied to both: NFKC, casefold, LaTeX control words and spacing residue dropped (Nougat's
   `Te\\kern-1.0ptV`), sub/superscript marks and braces dropped (`M_ th` = `M_{th}` = `Mth`),
   tokens split into runs of letters and of digits (`1.2TeV` = `1.2 TeV`). "Aligned" compares
   only the PDF pages the Nougat text has: the arXiv PDF opens with a CERN cover page the journal
   version lacks (PDF page n + 1 is journal page n), and Nougat gave up on two pages
   (`[MISSING_PAGE_...:2]`, `...:10`). The whole-PDF figure keeps them and is the stricter one.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from heprag.index.types import Document
from heprag.ingest.sources.latex import parse_latex
from heprag.ingest.sources.pdf import parse_pdf
from heprag.ingest.sources.text import parse_nougat

# (LaTeX main file, PDF of the same paper), relative to latex/hsf/ in the corpus.
HSF_PAIRS = [
    ("HSF-TN/2015-01/HSF-TN-2015-01.tex", "HSF-TN/2015-01/HSF-TN-2015-01.pdf"),
    ("HSF-TN/2016-01/HSF-TN-2016-01.tex", "HSF-TN/2016-01/HSF-TN-2016-01.pdf"),
    ("HSF-TN/2016-02/HSF-TN-2016-02.tex", "HSF-TN/2016-02/HSF-TN-2016-02.pdf"),
    ("HSF-TN/2016-03/HSF-TN-2016-03.tex", "HSF-TN/2016-03/HSF-TN-2016-03.pdf"),
    ("HSF-TN/2016-04/HSF-TN-2016-04.tex", "HSF-TN/2016-04/HSF-TN-2016-04.pdf"),
    ("HSF-TN/2018-01/HSF-TN-2018-01.tex", "HSF-TN/2018-01/HSF-TN-2018-01.pdf"),
    ("HSF-TN/2024-01/latex/whitepaper.tex", "HSF-TN/2024-01/2404.02100v2.pdf"),
    ("HSF-DOC/2018-01/espp-hsf-submission.tex", "HSF-DOC/2018-01/espp-hsf-submission.pdf"),
    (
        "CWP/papers/HSF-CWP-2017-11_generators/latex/main.tex",
        "CWP/papers/HSF-CWP-2017-11_generators/2017-11-11-GeneratorWG-CWP-Chapter.pdf",
    ),
    (
        "CWP/papers/HSF-CWP-2017-07_detsim/latex/DetectorSimulation.tex",
        "CWP/papers/2017-11/Detector-Simulation-White-Paper.pdf",
    ),
    (
        "CWP/papers/HSF-CWP-2017-02_training/latex/cwp-wg-training-careers.tex",
        "CWP/papers/2017-11/TrainingChapterCommunityWhitePaper.pdf",
    ),
    ("CWP/papers/HSF-CWP-2017-04_doma/latex/hsf-cwp-dm.tex", "CWP/papers/2017-11/HSF-CWP-DM.pdf"),
]
NOUGAT_PAIR = (
    "fulltext/atlas_nougat/arXiv_1503.08988.pdf",
    "fulltext/atlas_nougat/papers/CDS_Record_2004911/latex.txt",
)
COVER_PAGES = 1  # the arXiv PDF's CERN cover page: its page n + 1 is the journal's page n
NUMBERING = re.compile(r"^(\d{1,2}|[A-Z])(\.\d{1,2})*\.?\s+")
NOT_SECTIONS = {
    "references",
    "bibliography",
    "contents",
    "abstract",
}  # outline entries no body block is under
MISSING_PAGE = re.compile(r"\[MISSING_PAGE_\w+:(\d+)\]")


def normalise_title(title: str) -> str:
    """'3.1 Copyleft  License' -> 'copyleft license'."""
    title = NUMBERING.sub("", unicodedata.normalize("NFKC", title).strip())
    return " ".join(re.findall(r"\w+", title.casefold()))


def section_titles(document: Document) -> set[str]:
    """Every section title on any block's section path (the Abstract pseudo-section excluded)."""
    titles = {normalise_title(t) for block in document.blocks for t in block.section}
    return {t for t in titles if t and t != "abstract"}


def _found(title: str, pool: Iterable[str]) -> bool:
    return any(title == p or difflib.SequenceMatcher(None, title, p).ratio() >= 0.9 for p in pool)


@dataclass
class TitleAgreement:
    """Section titles of one LaTeX/PDF pair, and how the two bodies agree token by token."""

    paper: str
    latex: set[str]
    pdf: set[str]
    outline: set[str]  # the PDF's bookmarks, empty when it has none
    text_f1: float

    @property
    def latex_in_pdf(self) -> int:
        return sum(_found(t, self.pdf) for t in self.latex)

    @property
    def pdf_in_latex(self) -> int:
        return sum(_found(t, self.latex) for t in self.pdf)

    @property
    def outline_in_pdf(self) -> int:
        return sum(_found(t, self.pdf) for t in self.outline)

    @property
    def recall(self) -> float:
        return self.latex_in_pdf / len(self.latex) if self.latex else 0.0

    @property
    def precision(self) -> float:
        return self.pdf_in_latex / len(self.pdf) if self.pdf else 0.0


def hsf_title_agreement(corpus: Path, pairs: list[tuple[str, str]] = HSF_PAIRS) -> list[TitleAgreement]:
    """One `TitleAgreement` per (LaTeX, PDF) pair, paths relative to the corpus's latex/hsf/."""
    import pymupdf

    hsf = corpus / "latex" / "hsf"
    results = []
    for tex, pdf in pairs:
        latex_doc, pdf_doc = next(parse_latex(hsf / tex)), next(parse_pdf(hsf / pdf))
        with pymupdf.open(hsf / pdf) as doc:
            outline = {normalise_title(entry[1]) for entry in doc.get_toc()} - NOT_SECTIONS
        _, _, f1 = token_f1(body_text(pdf_doc), body_text(latex_doc))
        results.append(
            TitleAgreement(Path(tex).stem, section_titles(latex_doc), section_titles(pdf_doc), outline, f1)
        )
    return results


def micro(results: list[TitleAgreement]) -> tuple[float, float, float]:
    """Micro-averaged (recall, precision, F1) of title agreement over pairs."""
    recall = sum(r.latex_in_pdf for r in results) / max(1, sum(len(r.latex) for r in results))
    precision = sum(r.pdf_in_latex for r in results) / max(1, sum(len(r.pdf) for r in results))
    return recall, precision, 2 * recall * precision / (recall + precision) if recall + precision else 0.0


def tokens(text: str) -> Counter[str]:
    """Normalised bag of tokens (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"\\[a-z]+|(?<=[a-z])-?\d+(\.\d+)?pt(?=[a-z])", "", text)  # \rm, \frac; Te\kern-1.0ptV
    text = re.sub(r"\s*[_^]\s*|[{}]", "", text)
    return Counter(re.findall(r"[^\W\d_]+|\d+", text))


def token_f1(candidate: str, reference: str) -> tuple[float, float, float]:
    """Bag-of-tokens precision, recall and F1 of `candidate` against `reference`."""
    cand, ref = tokens(candidate), tokens(reference)
    overlap = sum((cand & ref).values())
    precision, recall = overlap / max(1, sum(cand.values())), overlap / max(1, sum(ref.values()))
    return precision, recall, 2 * precision * recall / (precision + recall) if overlap else 0.0


def body_text(document: Document, skip_pages: set[int] | frozenset[int] = frozenset()) -> str:
    return "\n".join(block.text for block in document.blocks if block.page not in skip_pages)


@dataclass
class NougatAgreement:
    """Token agreement of `parse_pdf` with the Nougat text, on the whole PDF and on aligned pages."""

    whole: tuple[float, float, float]
    aligned: tuple[float, float, float]
    skipped_pages: list[int]
    pdf_tokens: int
    reference_tokens: int


def nougat_agreement(corpus: Path) -> NougatAgreement:
    pdf_path, nougat_path = (corpus / p for p in NOUGAT_PAIR)
    pdf_doc, reference = next(parse_pdf(pdf_path)), next(parse_nougat(nougat_path))
    missing = {int(n) + COVER_PAGES for n in MISSING_PAGE.findall(nougat_path.read_text())}
    skipped = set(range(1, COVER_PAGES + 1)) | missing
    ref_text = body_text(reference)
    return NougatAgreement(
        whole=token_f1(body_text(pdf_doc), ref_text),
        aligned=token_f1(body_text(pdf_doc, skipped), ref_text),
        skipped_pages=sorted(skipped),
        pdf_tokens=sum(tokens(body_text(pdf_doc)).values()),
        reference_tokens=sum(tokens(ref_text).values()),
    )
