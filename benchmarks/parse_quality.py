"""Parse-quality figures on the real corpus (issue #3): prints two tables.

1. Section titles of HSF papers that ship both LaTeX source and PDF: the titles the LaTeX parser
   finds vs those `parse_pdf` finds (normalised: numbering, case and punctuation ignored; a title
   matches when difflib's ratio is >= 0.9, to forgive ligatures and hyphenation).
2. Token-level precision/recall/F1 of `parse_pdf`'s text of arXiv:1503.08988 against the independent
   Nougat text of the same paper (CERN CDS record 2004911), both normalised (NFKC, casefold, `_`/`^`
   dropped, \\w+ tokens).

    python benchmarks/parse_quality.py [--corpus ../shared/corpus]
"""

from __future__ import annotations

import argparse
import difflib
import logging
import re
import time
import unicodedata
from collections import Counter
from pathlib import Path

from heprag.index.types import Document
from heprag.ingest.sources.latex import parse_latex
from heprag.ingest.sources.pdf import parse_pdf
from heprag.ingest.sources.text import parse_nougat

# (LaTeX main file, PDF of the same paper), relative to latex/hsf/.
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
# The arXiv PDF has a CERN cover page that the journal version Nougat read lacks: its page n is our n + 1.
NOUGAT_PAGE_OFFSET = 1
NUMBERING = re.compile(r"^(\d{1,2}|[A-Z])(\.\d{1,2})*\.?\s+")


def normalise_title(title: str) -> str:
    """'3.1 Copyleft  License' -> 'copyleft license'."""
    title = NUMBERING.sub("", unicodedata.normalize("NFKC", title).strip())
    return " ".join(re.findall(r"\w+", title.casefold()))


def section_titles(document: Document) -> set[str]:
    """Every section title on any block's section path (the Abstract pseudo-section excluded)."""
    titles = {normalise_title(t) for block in document.blocks for t in block.section}
    return {t for t in titles if t and t != "abstract"}


def agreement(latex: set[str], pdf: set[str]) -> tuple[int, int, float, float]:
    """(LaTeX titles found in the PDF, PDF titles found in the LaTeX, recall, precision)."""

    def found(title: str, pool: set[str]) -> bool:
        return title in pool or any(difflib.SequenceMatcher(None, title, p).ratio() >= 0.9 for p in pool)

    in_pdf = sum(found(t, pdf) for t in latex)
    in_latex = sum(found(t, latex) for t in pdf)
    return in_pdf, in_latex, in_pdf / len(latex) if latex else 0.0, in_latex / len(pdf) if pdf else 0.0


def tokens(text: str) -> Counter[str]:
    """NFKC, casefold, sub/superscript marks dropped (pylatexenc's 'H_T' is the PDF's 'HT'), then \\w+."""
    text = re.sub(r"[_^]", "", unicodedata.normalize("NFKC", text).casefold())
    return Counter(re.findall(r"\w+", text))


def token_f1(candidate: str, reference: str) -> tuple[float, float, float]:
    """Bag-of-tokens precision, recall and F1 of `candidate` against `reference`."""
    cand, ref = tokens(candidate), tokens(reference)
    overlap = sum((cand & ref).values())
    precision, recall = overlap / max(1, sum(cand.values())), overlap / max(1, sum(ref.values()))
    return precision, recall, 2 * precision * recall / (precision + recall) if overlap else 0.0


def body_text(document: Document) -> str:
    return "\n".join(block.text for block in document.blocks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpus"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    hsf = args.corpus / "latex" / "hsf"

    print("Section titles, LaTeX vs PDF (HSF papers with both)")
    print(f"{'paper':46} {'tex':>4} {'pdf':>4} {'tex∈pdf':>8} {'pdf∈tex':>8} {'recall':>7} {'prec.':>6}")
    total = Counter[str]()
    for tex, pdf in HSF_PAIRS:
        latex_titles = section_titles(next(parse_latex(hsf / tex)))
        pdf_titles = section_titles(next(parse_pdf(hsf / pdf)))
        in_pdf, in_latex, recall, precision = agreement(latex_titles, pdf_titles)
        total.update(tex=len(latex_titles), pdf=len(pdf_titles), in_pdf=in_pdf, in_latex=in_latex)
        counts = f"{len(latex_titles):4} {len(pdf_titles):4} {in_pdf:8} {in_latex:8}"
        print(f"{Path(tex).stem[:46]:46} {counts} {recall:7.2f} {precision:6.2f}")
    recall, precision = total["in_pdf"] / max(1, total["tex"]), total["in_latex"] / max(1, total["pdf"])
    f1 = 2 * recall * precision / (recall + precision) if recall + precision else 0.0
    print(
        f"{'ALL (micro)':46} {total['tex']:4} {total['pdf']:4} {total['in_pdf']:8} {total['in_latex']:8}",
        end="",
    )
    print(f" {recall:7.2f} {precision:6.2f}   agreement F1 = {f1:.2f}")

    pdf_path, nougat_path = (args.corpus / p for p in NOUGAT_PAIR)
    started = time.perf_counter()
    pdf_doc = next(parse_pdf(pdf_path))
    seconds = time.perf_counter() - started
    reference = next(parse_nougat(nougat_path))
    precision, recall, f1 = token_f1(body_text(pdf_doc), body_text(reference))
    print("\nToken F1, parse_pdf vs independent Nougat text (arXiv:1503.08988 = CDS 2004911; goal >= 0.90)")
    print(
        f"{'pdf tokens':>10} {'ref tokens':>10} {'precision':>9} {'recall':>7} {'F1':>6} {'pdf parse s':>11}"
    )
    print(
        f"{sum(tokens(body_text(pdf_doc)).values()):10} {sum(tokens(body_text(reference)).values()):10} "
        f"{precision:9.3f} {recall:7.3f} {f1:6.3f} {seconds:11.2f}"
    )
    missing = {
        int(n) + NOUGAT_PAGE_OFFSET
        for n in re.findall(r"\[MISSING_PAGE_\w+:(\d+)\]", nougat_path.read_text())
    }
    shared = "\n".join(b.text for b in pdf_doc.blocks if b.page not in missing)
    precision, recall, f1 = token_f1(shared, body_text(reference))
    print(f"{'':21} {precision:9.3f} {recall:7.3f} {f1:6.3f}   on the pages both texts have (PDF pages")
    print(f"{'':21} {sorted(missing)} left out: the Nougat text marks them [MISSING_PAGE])")


if __name__ == "__main__":
    main()
