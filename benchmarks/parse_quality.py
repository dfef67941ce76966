"""Parse-quality figures on the real corpus (issue #3): prints two tables.

1. Section titles of HSF papers that ship both LaTeX source and PDF: the titles `parse_latex` finds
   vs those `parse_pdf` finds (recall = LaTeX titles found in the PDF, precision = PDF titles found
   in the LaTeX), the token F1 of the two bodies (a low one flags a PDF that is another version of
   the text), and the PDF's own outline titles found by `parse_pdf` where the PDF has bookmarks.
2. Token precision/recall/F1 of `parse_pdf`'s text of arXiv:1503.08988 against the independent
   Nougat text of its journal version (CERN CDS 2004911), on the whole PDF and on the pages both
   texts have (the PDF's cover page and the two pages Nougat could not read left out).

Metrics and normalisation: `heprag.evals.parse_metrics` (its docstring says what is normalised
and why).

    python benchmarks/parse_quality.py [--corpus ../shared/corpus]
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from heprag.evals.parse_metrics import hsf_title_agreement, micro, nougat_agreement


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpus"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    print("Section titles, LaTeX vs PDF (HSF papers with both; goal: recall and precision >= 0.8)")
    header = f"{'paper':28} {'tex':>4} {'pdf':>4} {'tex∈pdf':>8} {'pdf∈tex':>8} {'recall':>7} {'prec.':>6}"
    print(f"{header} {'text F1':>8} {'outline∈pdf':>12}")
    results = hsf_title_agreement(args.corpus)
    for r in results:
        counts = f"{len(r.latex):4} {len(r.pdf):4} {r.latex_in_pdf:8} {r.pdf_in_latex:8}"
        outline = f"{r.outline_in_pdf}/{len(r.outline)}" if r.outline else "-"
        print(f"{r.paper[:28]:28} {counts} {r.recall:7.2f} {r.precision:6.2f} {r.text_f1:8.3f} {outline:>12}")
    recall, precision, f1 = micro(results)
    tex, pdf = sum(len(r.latex) for r in results), sum(len(r.pdf) for r in results)
    in_pdf, in_tex = sum(r.latex_in_pdf for r in results), sum(r.pdf_in_latex for r in results)
    print(f"{'ALL (micro)':28} {tex:4} {pdf:4} {in_pdf:8} {in_tex:8} {recall:7.2f} {precision:6.2f}", end="")
    print(f"   agreement F1 = {f1:.2f}")
    same = [r for r in results if r.text_f1 >= 0.9]
    recall, precision, f1 = micro(same)
    print(
        f"{'same version (text F1>=0.9)':28} {len(same):>2} pairs {'':18} {recall:7.2f} {precision:6.2f}",
        end="",
    )
    print(f"   agreement F1 = {f1:.2f}")

    started = time.perf_counter()
    nougat = nougat_agreement(args.corpus)
    seconds = time.perf_counter() - started
    print("\nToken F1, parse_pdf vs independent Nougat text (arXiv:1503.08988 = CDS 2004911; goal >= 0.90)")
    print(f"{'':22} {'precision':>9} {'recall':>7} {'F1':>6}")
    for name, (p, r, f) in (("whole PDF", nougat.whole), ("aligned pages", nougat.aligned)):
        print(f"{name:22} {p:9.3f} {r:7.3f} {f:6.3f}")
    print(
        f"aligned = PDF pages without {nougat.skipped_pages} (CERN cover page; Nougat's [MISSING_PAGE]s); "
        f"{nougat.pdf_tokens} PDF vs {nougat.reference_tokens} Nougat tokens; both parsed in {seconds:.2f} s"
    )


if __name__ == "__main__":
    main()
