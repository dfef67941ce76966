"""Page layout for the PDF parser: styled text lines, figure regions, dehyphenated line joins."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u2060\ufeff]")  # soft hyphen, zero-width spaces, BOM
BOLD_FLAG = 16
ITALIC_FLAG = 2
BOLD_FONT = re.compile(r"bold|black|heavy|semibd|demi|cmbx|cmssbx|cmmib|cmbsy|txbsy|txbmi", re.I)
ITALIC_FONT = re.compile(r"italic|oblique|cmti|cmsl", re.I)
LETTER = re.compile(r"[^\W\d_]")
CAPTION = re.compile(r"^(Figure|Fig\.|FIG\.|FIGURE|Table|TABLE|Tab\.)\s*[A-Z]?\d+[a-z]?\s*[:.|]")
TOC_LEADERS = re.compile(r"(\s?\.){4,}\s*\d*$")
Box = tuple[float, float, float, float]
MIN_FIGURE = (40.0, 30.0)  # smallest figure region, points (a fraction bar or a table rule is not one)
FIGURE_MARGIN = 6.0  # axis titles and tick labels sit just outside the drawn frame
WORD_GAP = 0.15  # a horizontal gap between spans wider than this × font size separates words


@dataclass
class Line:
    """One visual line of text with the style a heading detector needs."""

    text: str
    page: int
    block: int  # document-wide index of the PyMuPDF text block the line belongs to
    size: float  # largest font size among its spans
    bold: bool  # (nearly) all its letters are bold
    italic: bool
    bbox: Box
    toc_entry: bool = False  # "Title .... 12" or a title with its page number far to the right
    in_table: bool = False  # inside a ruled table: a bold header cell is no section heading


def normalise(text: str) -> str:
    """NFKC (math italic 𝜇 → μ, ligatures ﬁ → fi) and collapsed spaces."""
    text = INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).replace("\u00a0", " ")
    return re.sub(r"[ \t]+", " ", text).strip()


def page_lines(page: object, page_no: int, first_block: int) -> list[Line]:
    """A page's horizontal text lines in reading order, figure-internal text (axis labels, legends) dropped.

    Pieces that PyMuPDF splits from one visual line (LaTeX's heading number "3.1" apart from
    "Results", a TOC title and its page number) are merged into one `Line`.
    """
    import pymupdf

    data = page.get_text("dict", flags=pymupdf.TEXT_MEDIABOX_CLIP)  # type: ignore[attr-defined]
    blocks = [b for b in data["blocks"] if b.get("type") == 0]
    figures, tables = drawn_regions(page, blocks)
    lines: list[Line] = []
    for index, block in enumerate(blocks):
        pieces = [_piece(line, page_no, first_block + index) for line in block["lines"]]
        merged = _merge_same_baseline([p for p in pieces if p is not None])
        if not merged or (_centre_in(merged, figures) and not CAPTION.match(merged[0].text)):
            continue
        in_table = _centre_in(merged, tables)
        for line in merged:
            line.in_table = in_table
        lines.extend(merged)
    return lines


def _join_spans(spans: list[dict]) -> str:
    """Span texts in order, with a space where a visible gap separates two words ("𝑝𝑝" "collisions":
    the PDF positions them apart but has no space character). Symbols (→, =) stay glued."""
    parts: list[str] = []
    for prev, span in zip([None, *spans], spans, strict=False):
        text = span["text"]
        if prev is not None and parts and text and parts[-1]:
            gap = span["bbox"][0] - prev["bbox"][2]
            if gap > WORD_GAP * span["size"] and parts[-1][-1].isalnum() and text[0].isalnum():
                parts.append(" ")
        parts.append(text)
    return "".join(parts)


def _piece(line: dict, page_no: int, block: int) -> Line | None:
    if abs(line["dir"][0]) < 0.5:  # rotated text: the arXiv stamp in the margin, rotated axis titles
        return None
    spans = [s for s in line["spans"] if s["text"].strip()]
    if not spans:
        return None
    text = normalise(_join_spans(line["spans"]))
    letters = [len(LETTER.findall(s["text"])) or 0.01 for s in spans]  # a symbol-only span weighs little
    bold = _mostly(letters, [bool(s["flags"] & BOLD_FLAG or BOLD_FONT.search(s["font"])) for s in spans])
    italic = _mostly(
        letters, [bool(s["flags"] & ITALIC_FLAG or ITALIC_FONT.search(s["font"])) for s in spans]
    )
    return Line(text, page_no, block, max(s["size"] for s in spans), bold, italic, tuple(line["bbox"]))


def _mostly(letters: list[float], styled: list[bool]) -> bool:
    """Whether 70 % of the letters are styled (a bold heading's math often is in a regular font)."""
    return sum(n for n, flag in zip(letters, styled, strict=True) if flag) >= 0.7 * sum(letters)


def _merge_same_baseline(pieces: list[Line]) -> list[Line]:
    merged: list[Line] = []
    for piece in pieces:
        last = merged[-1] if merged else None
        if last is None or not _same_row(last.bbox, piece.bbox):
            merged.append(piece)
            continue
        gap = piece.bbox[0] - last.bbox[2]
        if gap > 2 * max(last.size, 1.0) and re.fullmatch(r"\d{1,3}", piece.text):
            last.toc_entry = True  # a title with its page number pushed to the right margin
        last.text = f"{last.text} {piece.text}"
        last.bold, last.italic = last.bold and piece.bold, last.italic and piece.italic
        last.size = max(last.size, piece.size)
        (x0, y0, x1, y1), (a, b, c, d) = last.bbox, piece.bbox
        last.bbox = (min(x0, a), min(y0, b), max(x1, c), max(y1, d))
    for line in merged:
        line.toc_entry = line.toc_entry or bool(TOC_LEADERS.search(line.text))
    return merged


def _same_row(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    overlap = min(a[3], b[3]) - max(a[1], b[1])
    return b[0] >= a[2] - 1 and overlap >= 0.6 * min(a[3] - a[1], b[3] - b[1])


def _centre_in(lines: list[Line], regions: list[Box]) -> bool:
    """Whether the centre of the lines' bounding box lies in one of the regions."""
    if not regions:
        return False
    cx = (min(line.bbox[0] for line in lines) + max(line.bbox[2] for line in lines)) / 2
    cy = (min(line.bbox[1] for line in lines) + max(line.bbox[3] for line in lines)) / 2
    return any(r[0] <= cx <= r[2] and r[1] <= cy <= r[3] for r in regions)


def drawn_regions(page: object, blocks: list[dict]) -> tuple[list[Box], list[Box]]:
    """(figures, tables): areas of a page taken by plots and pictures, and by ruled tables.

    Vector drawings are clustered by proximity; a cluster is a figure when it holds curves or
    slanted lines (data points, error bands, diagrams) or hundreds of strokes (histograms), and
    text covers little of it. Tables are drawn with a few straight rules and are mostly text, so
    they stay in the body (as do shaded text boxes). Raster images count as figures. Figures are
    grown by `FIGURE_MARGIN` to take in tick labels and axis titles.
    """
    width, height = page.rect.width, page.rect.height  # type: ignore[attr-defined]
    page_area = width * height
    clusters: list[list[float]] = []  # x0, y0, x1, y1, strokes, shapes (curves, slanted lines)
    for drawing in page.get_cdrawings(extended=False):  # type: ignore[attr-defined]
        x0, y0, x1, y1 = drawing["rect"]
        if (x1 - x0) * (y1 - y0) > 0.5 * page_area:
            continue  # a page background
        shapes = sum(1 for item in drawing["items"] if _is_shape(item))
        clusters.append([x0, y0, x1, y1, len(drawing["items"]), shapes])
    figures: list[Box] = []
    tables: list[Box] = []
    for x0, y0, x1, y1, strokes, curved in _merge_touching(clusters, tolerance=4.0):
        box = (x0, y0, x1, y1)
        if x1 - x0 < MIN_FIGURE[0] or y1 - y0 < MIN_FIGURE[1]:
            continue
        if (curved >= 3 or strokes >= 200) and _text_cover(blocks, box) < 0.35:
            figures.append(box)
        elif strokes >= 4:
            tables.append(box)
    for image in page.get_image_info() if page.get_images() else []:  # type: ignore[attr-defined]
        x0, y0, x1, y1 = box = tuple(image["bbox"])
        big_enough = x1 - x0 >= MIN_FIGURE[0] and y1 - y0 >= MIN_FIGURE[1]
        if big_enough and (x1 - x0) * (y1 - y0) < 0.6 * page_area and _text_cover(blocks, box) < 0.35:
            figures.append(box)
    m = FIGURE_MARGIN
    return [(x0 - m, y0 - m, x1 + m, y1 + m) for x0, y0, x1, y1 in figures], tables


def _is_shape(item: tuple) -> bool:
    kind = item[0]
    if kind == "l":
        (ax, ay), (bx, by) = item[1], item[2]
        return abs(ax - bx) > 0.5 and abs(ay - by) > 0.5
    return kind in ("c", "qu")


def _merge_touching(boxes: list[list[float]], tolerance: float) -> list[list[float]]:
    """Union boxes that touch (within `tolerance`), summing their counters, until none touch."""
    merged: list[list[float]] = []
    for box in boxes:
        for other in merged:
            if _touch(box, other, tolerance):
                _absorb(other, box)
                break
        else:
            merged.append(list(box))
    changed = True
    while changed:
        changed = False
        for i in range(len(merged)):
            for j in range(i + 1, len(merged)):
                if _touch(merged[i], merged[j], tolerance):
                    _absorb(merged[i], merged.pop(j))
                    changed = True
                    break
            if changed:
                break
    return merged


def _touch(a: list[float], b: list[float], tolerance: float) -> bool:
    t = tolerance
    return a[0] - t <= b[2] and b[0] - t <= a[2] and a[1] - t <= b[3] and b[1] - t <= a[3]


def _absorb(into: list[float], box: list[float]) -> None:
    into[0], into[1] = min(into[0], box[0]), min(into[1], box[1])
    into[2], into[3] = max(into[2], box[2]), max(into[3], box[3])
    into[4] += box[4]
    into[5] += box[5]


def _text_cover(blocks: list[dict], region: Box) -> float:
    """Fraction of the region's area covered by the text lines centred inside it."""
    x0, y0, x1, y1 = region
    covered = 0.0
    for block in blocks:
        for line in block["lines"]:
            a, b, c, d = line["bbox"]
            if x0 <= (a + c) / 2 <= x1 and y0 <= (b + d) / 2 <= y1:
                covered += (c - a) * (d - b)
    return covered / max(1.0, (x1 - x0) * (y1 - y0))


def join_lines(lines: list[str], vocabulary: set[str]) -> str:
    """Join a paragraph's lines, undoing end-of-line hyphenation ("pre-" + "dictions").

    A hyphen stays when both halves are words of the document ("high-" + "transverse") and the
    joined word is not; otherwise the halves are glued.
    """
    text = ""
    for line in lines:
        if text.endswith("-") and line[:1].islower() and len(text) > 1 and text[-2].isalpha():
            head = re.search(r"(\w+)-$", text)
            tail = re.match(r"\w+", line)
            if head and tail:
                first, second = head.group(1).casefold(), tail.group(0).casefold()
                joined = first + second
                if joined in vocabulary or not (first in vocabulary and second in vocabulary):
                    text = text[:-1] + line
                    continue
            text += line
            continue
        text = f"{text} {line}" if text else line
    return text


def vocabulary(lines: list[Line]) -> set[str]:
    """The document's words, casefolded, without the halves of words hyphenated at a line end."""
    words: set[str] = set()
    after_hyphen = False
    for line in lines:
        found = re.findall(r"\w+", line.text)
        if after_hyphen:
            found = found[1:]
        after_hyphen = line.text.endswith("-")
        if after_hyphen:
            found = found[:-1]
        words.update(w.casefold() for w in found)
    return words
