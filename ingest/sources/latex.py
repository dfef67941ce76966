"""LaTeX sources (a `.tex` or a folder; archives: archive.py) into sectioned Documents via pylatexenc.

`\\input`/`\\include`/`\\bibliography` resolve inside the paper's folder tree only and never to hidden
or version-control paths (`.ssh/`, `.git/`, `.env`: excluded from ingestion, so excluded here too);
each refusal is a warning in the ingest report. Display math, verbatim and URLs stay verbatim; floats
become caption/table blocks; `\\cite` becomes `[n]` with References from `.bib`/`.bbl`/thebibliography.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from heprag.index.errors import LimitExceededError, ParseError
from heprag.index.types import Block, BlockKind, Document, Reference
from heprag.ingest.sources.base import FileParser, ParseLimits, check_file_size, register, suffix_is
from heprag.ingest.sources.ids import arxiv_links, find_collaboration, split_arxiv_id
from heprag.ingest.sources.latex_bib import ARXIV_NAME, OPT, parse_bib, parse_bibitems
from heprag.ingest.sources.latex_text import group as _group
from heprag.ingest.sources.latex_text import latex_to_text
from heprag.ingest.sources.latex_text import squash as _squash

log = logging.getLogger(__name__)
__all__ = ["find_main", "latex_to_text", "parse_bib", "parse_bibitems", "parse_latex", "strip_comments"]

COMMENT = re.compile(r"(?<!\\)((?:\\\\)*)%[^\n]*(?:\n[ \t]*(?=\S))?")
INCLUDE = re.compile(r"\\(?:input|include|subfile)\s*\{\s*([^{}\s]+)\s*\}")
DEFINITION = re.compile(
    r"\\(?:(?:re|provide)?newcommand\*?\s*\{?\s*\\(?P<n1>[A-Za-z]+)\s*\}?(?P<args>\s*\[\d\])?"
    r"|def\s*\\(?P<n2>[A-Za-z]+))\s*\{"
)
BEGIN_DOC, END_DOC = re.compile(r"\\begin\s*\{document\}"), re.compile(r"\\end\s*\{document\}")
CITE = re.compile(r"\\([a-zA-Z]*cite[a-zA-Z]*)\*?\s*(?:\[[^\]]*\]\s*){0,2}\{([^{}]*)\}")
REF = re.compile(r"\\(eq|auto|c|C|name)?ref\*?\s*\{([^{}]*)\}")
PLACEHOLDER = re.compile(r"HEPRAG(KEEP|REF)(\d+)X")
BREAKS = re.compile(r"\\\\|\\newline(?![A-Za-z])")
LEVELS = ["part", "chapter", "section", "subsection", "subsubsection"]
MATH_ENVS = "equation|align|gather|multline|eqnarray|displaymath|flalign|alignat|math"
FLOAT_ENVS = "figure|table|wrapfigure|wraptable|sidewaysfigure|sidewaystable"
VERBATIM_ENVS = "verbatim|Verbatim|lstlisting|minted"
TOKEN = re.compile(
    rf"\\(?P<sec>{'|'.join(LEVELS)})(?P<star>\*?){OPT}\{{"
    rf"|\\begin\s*\{{(?P<env>(?:{MATH_ENVS}|{FLOAT_ENVS}|{VERBATIM_ENVS}"
    r"|titlepage|comment|thebibliography|tikzpicture|filecontents)\*?)\}"
    r"|(?P<dollars>\$\$)|(?P<bracket>\\\[)|(?P<appendix>\\appendix)(?![A-Za-z])"
)
# Commands removed with their arguments (count of {} groups) before pylatexenc sees the text.
DROP_COMMANDS = {
    "label": 1, "includegraphics": 1, "bibliography": 1, "bibliographystyle": 1, "printbibliography": 0,
    "vspace": 1, "hspace": 1, "setlength": 2, "addtolength": 2, "setcounter": 2, "addcontentsline": 3,
    "pagestyle": 1, "thispagestyle": 1, "pagenumbering": 1, "title": 1, "author": 1, "date": 1, "affil": 1,
    "affiliation": 1, "address": 1, "institute": 1, "email": 1, "thanks": 1, "keywords": 1, "abstract": 1,
    "graphicspath": 1, "captionsetup": 1, "definecolor": 3, "newcommand": 2, "renewcommand": 2,
    "hypersetup": 1, "maketitle": 0,
}  # fmt: skip
NOTES = {"thanks": 1, "footnote": 1, "label": 1}
PROTECTED_MACROS = {*LEVELS, *["begin", "end", "item", "caption", "label", "cite", "ref", "input", "include"]}


def strip_comments(text: str) -> str:
    """Remove `%` comments (not `\\%`, not in verbatim); a comment line leaves no paragraph break."""
    parts = re.split(rf"(\\begin\s*\{{({VERBATIM_ENVS})\*?\}}.*?\\end\s*\{{\2\*?\}})", text, flags=re.S)
    return "".join(p if i % 3 else COMMENT.sub(r"\1", p) for i, p in enumerate(parts) if i % 3 != 2)


def _drop_commands(text: str, commands: dict[str, int]) -> str:
    out, pos = [], 0
    for match in re.finditer(r"\\(" + "|".join(commands) + r")\*?(?![A-Za-z])", text):
        if match.start() >= pos:
            out.append(text[pos : match.start()])
            _, pos = _group(text, match.end(), "[", "]")
            for _ in range(commands[match.group(1)]):
                _, pos = _group(text, pos)
    return "".join(out) + text[pos:]


VCS_FOLDERS = {"CVS", "RCS", "SCCS", "_darcs"}  # .git, .hg, .svn, .bzr are dot-folders


def excluded_part(path: Path, root: Path) -> str | None:
    """The hidden (dot) or version-control component of `path` below `root`, if any (lexically and
    after resolving symlinks); None when the path is an ordinary one inside the tree."""
    for candidate, base in (
        (Path(os.path.normpath(path)), Path(os.path.normpath(root))),
        (path.resolve(), root.resolve()),
    ):
        if candidate.is_relative_to(base):
            for part in candidate.relative_to(base).parts:
                if part.startswith(".") or part in VCS_FOLDERS:
                    return part
    return None


def _read(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


@dataclass
class _Source:
    """Loads the main file with every `\\input` expanded; at most `limits.max_file_bytes` in total."""

    root: Path
    limits: ParseLimits
    read_bytes: int = 0
    refused: list[str] = field(default_factory=list)  # one warning per refused \\input, for the report

    def load(self, path: Path, stack: tuple[Path, ...] = ()) -> str:
        self.read_bytes += path.stat().st_size
        if self.read_bytes > self.limits.max_file_bytes:
            raise LimitExceededError(
                f"{path}: the LaTeX source with its \\input files exceeds {self.limits.max_file_bytes:,} "
                "bytes (raise ingest.max_file_bytes to accept it)"
            )
        text = strip_comments(_read(path))
        return INCLUDE.sub(lambda m: self._include(m, path, (*stack, path)), text)

    def refuse(self, parent: Path, command: str, name: str, why: str) -> None:
        where = parent.relative_to(self.root) if parent.is_relative_to(self.root) else parent.name
        self.refused.append(f"{where}: \\{command}{{{name}}} refused: {why}")
        log.warning("%s: \\%s{%s} refused: %s", parent, command, name, why)

    def _include(self, match: re.Match[str], parent: Path, stack: tuple[Path, ...]) -> str:
        name, command = match.group(1), match.group(0)[1:].partition("{")[0].strip()
        folders = (self.root, parent.parent)  # TeX resolves from the main file's folder; be lenient
        for path in (f.joinpath(n) for f in folders for n in (name, f"{name}.tex")):
            resolved = path.resolve()
            if not resolved.is_relative_to(self.root.resolve()):
                self.refuse(parent, command, name, "it points outside the source folder")
                return ""
            if (part := excluded_part(path, self.root)) is not None and (path.exists() or path.is_symlink()):
                self.refuse(parent, command, name, f"{part!r} is a hidden or version-control path")
                return ""
            if resolved.is_file():
                if resolved in stack or len(stack) > 20:
                    log.warning("%s: \\input{%s} is recursive; skipped", parent, name)
                    return ""
                return "\n" + self.load(resolved, stack) + "\n"
        log.warning("%s: \\input{%s} not found in %s; skipped", parent, name, self.root)
        return ""


def _macros(text: str) -> tuple[dict[str, str], str]:
    """Argument-free `\\newcommand`/`\\def` macros (name -> body), and the text without definitions."""
    macros: dict[str, str] = {}
    out, pos = [], 0
    for match in DEFINITION.finditer(text):
        if match.start() < pos:
            continue
        body, end = _group(text, match.end() - 1)
        name = match.group("n1") or match.group("n2")
        if not match.group("args") and not re.search(r"[#@]", body) and name not in PROTECTED_MACROS:
            macros[name] = body.replace("\\xspace", "")
        out.append(text[pos : match.start()])
        pos = end
    return macros, "".join(out) + text[pos:]


def _expand_macros(text: str, macros: dict[str, str]) -> str:
    if macros:
        names = sorted(macros, key=len, reverse=True)[:500]
        pattern = re.compile(r"\\(" + "|".join(map(re.escape, names)) + r")(?![A-Za-z])")
        for _ in range(2):  # macros defined through other macros
            text = pattern.sub(lambda m: macros[m.group(1)], text)
    return text


@dataclass
class _Walker:
    """Turns a document body into Blocks (sections, paragraphs, captions, tables); collects citations."""

    section: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    keep: list[str] = field(default_factory=list)  # verbatim LaTeX, restored after conversion
    math: set[int] = field(default_factory=set)
    refs: list[tuple[str, str]] = field(default_factory=list)  # (format, label) of each \\ref
    labels: dict[str, str] = field(default_factory=dict)
    cited: dict[str, int] = field(default_factory=dict)
    counters: dict[int, int] = field(default_factory=dict)  # section depth -> number
    numbers: dict[str, int] = field(default_factory=dict)  # Figure, Table, equation -> number
    titles: dict[int, str] = field(default_factory=dict)
    top: int = 2
    appendix: bool = False

    def walk(self, body: str) -> None:
        present = [i for i, lvl in enumerate(LEVELS) if i and re.search(rf"\\{lvl}\*?\s*[\[{{]", body)]
        self.top = present[0] if present else 2
        buffer: list[str] = []
        pos = 0
        while match := TOKEN.search(body, pos):
            buffer.append(body[pos : match.start()])
            pos = match.end()
            if match.group("sec"):
                title, pos = _group(body, match.end() - 1)
                label = re.match(r"\s*\\label\s*\{([^{}]*)\}", body[pos:])
                self.flush(buffer)
                number = self.heading(match.group("sec"), title, starred=bool(match.group("star")))
                if label:
                    self.labels[label.group(1)] = number
                    pos += label.end()
            elif match.group("appendix"):
                self.appendix, self.counters = True, {}
            elif match.group("dollars") or match.group("bracket"):
                closing = "$$" if match.group("dollars") else "\\]"
                end = body.find(closing, pos)
                pos = len(body) if end < 0 else end + len(closing)
                buffer.append(self.protect(body[match.start() : pos], math=True))
            else:
                env = match.group("env")
                end_match = re.compile(rf"\\end\s*\{{{re.escape(env)}\}}").search(body, pos)
                inner = body[pos : end_match.start() if end_match else len(body)]
                pos = end_match.end() if end_match else len(body)
                name = env.rstrip("*")
                if re.fullmatch(MATH_ENVS, name):
                    if name not in ("math", "displaymath") and not env.endswith("*"):
                        for label in re.findall(r"\\label\s*\{([^{}]*)\}", inner) or [""]:
                            self.labels[label] = str(self.count("equation"))
                    buffer.append(self.protect(body[match.start() : pos], math=True))
                elif re.fullmatch(VERBATIM_ENVS, name):
                    buffer.append("\n\n" + self.protect(inner.strip("\n")) + "\n\n")
                elif re.fullmatch(FLOAT_ENVS, name):
                    self.flush(buffer)
                    self.float("Table" if "table" in name else "Figure", inner)
        self.flush([*buffer, body[pos:]])

    def count(self, name: str) -> int:
        self.numbers[name] = self.numbers.get(name, 0) + 1
        return self.numbers[name]

    def protect(self, raw: str, math: bool = False) -> str:
        self.keep.append(raw)
        self.math |= {len(self.keep) - 1} if math else set()
        return f" HEPRAGKEEP{len(self.keep) - 1}X "

    def heading(self, level: str, title: str, starred: bool) -> str:
        depth = LEVELS.index(level)
        number = ""
        if not starred and depth >= self.top:
            kept = {d: n for d, n in self.counters.items() if d < depth}
            self.counters = kept | {depth: self.counters.get(depth, 0) + 1}
            parts = [self.counters.get(d, 0) for d in range(self.top, depth + 1)]
            first = chr(ord("A") + parts[0] - 1) if self.appendix and 0 < parts[0] <= 26 else str(parts[0])
            number = ".".join([first, *map(str, parts[1:])])
        self.titles = {d: t for d, t in self.titles.items() if d < depth}
        self.titles[depth] = f"{number} {_squash(self.text(_drop_commands(title, NOTES)))}".strip()
        self.section = [self.titles[d] for d in sorted(self.titles)]
        return number

    def float(self, kind: str, inner: str) -> None:
        number = self.count(kind)
        self.labels.update({label: str(number) for label in re.findall(r"\\label\s*\{([^{}]*)\}", inner)})
        for caption in re.finditer(rf"\\caption\*?{OPT}\{{", inner):
            self.add(f"{kind} {number}: {_squash(self.text(_group(inner, caption.end() - 1)[0]))}", "caption")
        for tab in re.finditer(r"\\begin\s*\{(tabular\*?|tabularx|longtable)\}", inner):
            _, pos = _group(inner, tab.end(), "[", "]")
            for _ in range(1 if tab.group(1) in ("tabular", "longtable") else 2):
                _, pos = _group(inner, pos)
            end = inner.find(f"\\end{{{tab.group(1)}}}", pos)
            rows = []
            for row in re.split(r"\\\\(?:\s*\[[^\]]*\])?", inner[pos : end if end >= 0 else None]):
                row = re.sub(r"\\(?:hline|[a-z]*rule|cline\s*\{[^}]*\}|cmidrule\S*\{[^}]*\})", "", row)
                cells = [_squash(self.text(cell)) for cell in re.split(r"(?<!\\)&", row)]
                rows += [" | ".join(cells)] if any(cells) else []
            self.add("\n".join(rows), "table")

    def text(self, latex: str) -> str:
        """Convert a LaTeX run: citations become [n], \\ref a placeholder, URLs and \\verb are kept."""

        def cite(match: re.Match[str]) -> str:
            keys = [k.strip() for k in match.group(2).split(",") if k.strip() not in ("", "*")]
            numbers = [self.cited.setdefault(k, len(self.cited) + 1) for k in keys]
            silent = match.group(1).startswith("no") or not numbers
            return "" if silent else f"[{', '.join(map(str, numbers))}]"

        def ref(match: re.Match[str]) -> str:
            self.refs.append(("(#)" if match.group(1) == "eq" else "#", match.group(2).split(",")[0].strip()))
            return f"HEPRAGREF{len(self.refs) - 1}X"

        latex = REF.sub(ref, CITE.sub(cite, latex))
        latex = re.sub(r"\\url\s*\{([^{}]*)\}", lambda m: self.protect(m.group(1)).strip(), latex)
        latex = re.sub(r"\\verb\*?(.)(.*?)\1", lambda m: self.protect(m.group(2)).strip(), latex)
        return latex_to_text(_drop_commands(latex, DROP_COMMANDS))

    def flush(self, buffer: list[str]) -> None:
        latex, buffer[:] = "".join(buffer), []
        for paragraph in re.split(r"\n[ \t]*\n", self.text(latex)):
            text = _squash(paragraph)
            if re.search(r"\w", text):
                kept = [int(m.group(2)) for m in PLACEHOLDER.finditer(text) if m.group(1) == "KEEP"]
                alone = bool(kept) and not PLACEHOLDER.sub("", text).strip(" .,;")
                self.add(text, "equation" if alone and all(k in self.math for k in kept) else "text")

    def add(self, text: str, kind: BlockKind) -> None:
        if text.strip():
            self.blocks.append(Block(text=text, page=None, section=list(self.section), kind=kind))

    def finish(self) -> list[Block]:
        """Put the kept LaTeX and the resolved \\ref numbers back into every block."""

        def restore(match: re.Match[str]) -> str:
            index = int(match.group(2))
            if match.group(1) == "KEEP":
                return self.keep[index] if index < len(self.keep) else ""
            form, label = self.refs[index] if index < len(self.refs) else ("", "")
            return form.replace("#", self.labels.get(label, "?"))

        for block in self.blocks:
            block.text = PLACEHOLDER.sub(restore, block.text).strip()
        return [b for b in self.blocks if b.text]


def _bibliography(text: str, main: Path, root: Path, keys: set[str], source: _Source) -> dict[str, Reference]:
    """Cited entries from thebibliography, then `.bbl` files, then the named (or any) `.bib` files."""
    entries = parse_bibitems(text)
    for bbl in sorted(main.parent.glob("*.bbl")):
        if excluded_part(bbl, root) is None:
            entries = {**parse_bibitems(_read(bbl)), **entries}
    bibs = []
    for command, group in re.findall(rf"\\(bibliography|addbibresource){OPT}\{{([^{{}}]*)\}}", text):
        for name in (n.strip() for n in group.split(",") if n.strip()):
            bib = main.parent / name
            bib = bib if bib.suffix == ".bib" else bib.with_name(bib.name + ".bib")
            if not bib.is_file():
                continue
            if not bib.resolve().is_relative_to(root.resolve()):
                source.refuse(main, command, name, "it points outside the source folder")
            elif (part := excluded_part(bib, root)) is not None:
                source.refuse(main, command, name, f"{part!r} is a hidden or version-control path")
            else:
                bibs.append(bib)
    fallback = [b for b in sorted(main.parent.glob("*.bib")) if excluded_part(b, root) is None]
    for bib in bibs or fallback:
        if missing := keys - entries.keys():
            entries.update(parse_bib(_read(bib), missing))
    return entries


def _titlepage(body: str, authors: list[str]) -> tuple[str, list[str]]:
    """Title and authors from an HSF/CERN-style title page (a `\\huge` centred title, centred authors)."""
    size = re.search(r"\\(huge|Huge|LARGE|Large)(?![A-Za-z])", body[:20000])
    center = re.compile(r"\\begin\s*\{center\}(.*?)\\end\s*\{center\}", re.S)
    title_match = center.search(body, size.end()) if size else None
    if not size or not title_match or title_match.start() - size.end() > 300:
        return "", authors
    author_match = center.search(body, title_match.end())
    raw = re.split(r"\\bigskip|\{\\it|\\textit", author_match.group(1))[0] if author_match else ""
    names = _authors([re.sub(r"\$[^$]*\$", ",", raw).replace("\n", ",")]) if raw else []
    return _squash(latex_to_text(BREAKS.sub(" ", title_match.group(1)))), authors or names


def _authors(raw: list[str]) -> list[str]:
    names: list[str] = []
    for item in raw:
        item = _drop_commands(item, {**NOTES, "inst": 1, "textsuperscript": 1, "affiliation": 1})
        text = latex_to_text(re.sub(r"\\and(?![A-Za-z])|\\\\", ",", re.sub(r"\$[^$]*\$", "", item)))
        text = re.sub(r"\[[^\]]*\]|\([^)]*\)", "", text)
        if ":" in text:  # "HEP Software Foundation: A. Name, B. Name"
            head, text = text.split(":", 1)
            names.append(head.strip())
        names += [p.strip(" .,*") for p in re.split(r",|;|\n|\band\b", text)]
    return list(dict.fromkeys(n for n in names if 0 < len(n.split()) <= 8 and re.search(r"[A-Za-z]", n)))


def find_main(files: list[Path]) -> Path:
    """The main file: has \\documentclass and \\begin{document}; prefers main/ms/arxiv names, more \\input."""
    mains = []
    for path in files:
        head = strip_comments(_read(path)) if path.stat().st_size < 50_000_000 else ""
        if "\\documentclass" in head and BEGIN_DOC.search(head) and "{standalone}" not in head[:2000]:
            preferred = bool(re.search(r"main|ms|arxiv|paper", path.stem, re.I))
            mains.append((preferred, len(INCLUDE.findall(head)), path.stat().st_size, path))
    if not mains:
        raise ParseError(str(files[0].parent if files else "?"), "no LaTeX main file (\\documentclass) found")
    return max(mains, key=lambda m: m[:3])[3]


def _included_elsewhere(path: Path) -> bool:
    """True when a sibling `.tex` `\\input`s this file (it is then read through that file)."""
    siblings = [p for p in path.parent.glob("*.tex") if p != path and p.stat().st_size < 10_000_000]
    return any(Path(n).stem == path.stem for p in siblings for n in INCLUDE.findall(strip_comments(_read(p))))


def _doc_id(names: list[str], main: Path) -> tuple[str, dict[str, str]]:
    for name in names:
        if match := ARXIV_NAME.match(name):
            base, version = split_arxiv_id(match.group("id").replace("_", "/"))
            return f"arXiv:{base}{f'v{version}' if version else ''}", arxiv_links(base, version)
    return f"tex:{main.stem}", {}


def parse_tree(main: Path, root: Path, limits: ParseLimits, names: list[str], shown: Path) -> Document:
    """Parse the main file `main` (`\\input`s resolved under `root`); `names` may carry an arXiv id."""
    source = _Source(root, limits)
    text = source.load(main)
    text = re.sub(r"\\hypertarget\s*\{[^{}]*\}\s*\{", "{", text)  # pandoc wraps every heading in one
    begin = BEGIN_DOC.search(text)
    preamble, body = (text[: begin.start()], text[begin.end() :]) if begin else ("", text)
    body = body[: end.start()] if (end := END_DOC.search(body)) else body
    (macros, preamble), (more, body) = _macros(preamble), _macros(body)
    body = _expand_macros(body, macros := macros | more)
    title_match = re.search(rf"\\title{OPT}\{{", text)
    title_latex = _expand_macros(_group(text, title_match.end() - 1)[0], macros) if title_match else ""
    title = _squash(latex_to_text(BREAKS.sub(" ", _drop_commands(title_latex, NOTES))))
    authors = _authors([_group(text, m.end() - 1)[0] for m in re.finditer(rf"\\author{OPT}\{{", text)])
    title, authors = (title, authors) if title else _titlepage(body, authors)
    walker = _Walker()
    abstract = re.search(r"\\begin\s*\{abstract\}(.*?)\\end\s*\{abstract\}", preamble + body, re.S)
    macro = re.search(r"\\abstract\s*\{", preamble + body)  # jheppub-style \abstract{...}
    abstract_latex = (
        abstract.group(1) if abstract else _group(preamble + body, macro.end() - 1)[0] if macro else ""
    )
    body = re.sub(r"\\begin\s*\{abstract\}.*?\\end\s*\{abstract\}", "", body, flags=re.S)
    for paragraph in re.split(r"\n[ \t]*\n", walker.text(abstract_latex)):
        walker.blocks += [Block(text=_squash(paragraph), section=["Abstract"], kind="abstract")]
    walker.walk(body)
    blocks = walker.finish()
    if not blocks:
        raise ParseError(str(shown), "the LaTeX source has no text (are its \\input files missing?)")
    entries = _bibliography(text, main, root, set(walker.cited), source)
    doc_id, links = _doc_id(names, main)
    return Document(
        doc_id=doc_id,
        title=title,
        authors=authors,
        source="latex",
        collaboration=find_collaboration(" ".join([title, *authors, *(b.text for b in blocks[:20])])),
        links=links,
        path=str(shown),
        blocks=blocks,
        references=[entries.get(k) or Reference(key=k, text=k) for k in walker.cited],
        warnings=source.refused,
        extra={
            "main_file": main.relative_to(root).as_posix() if main.is_relative_to(root) else main.name,
            "unresolved_citations": sum(1 for k in walker.cited if k not in entries),
        },
    )


def parse_latex(path: Path, limits: ParseLimits = ParseLimits()) -> Iterator[Document]:
    """A `.tex` file, or a source folder; a fragment `\\input` by a sibling file yields nothing."""
    if path.is_dir():
        files = [p for p in path.rglob("*.tex") if p.is_file() and excluded_part(p, path) is None]
        main = find_main(sorted(files)[: limits.max_archive_members])
        yield parse_tree(main, path, limits, [path.name, main.stem], path)
        return
    check_file_size(path, limits)
    if "\\documentclass" not in strip_comments(_read(path)) and _included_elsewhere(path):
        log.info("%s: a LaTeX fragment, read through the file that \\inputs it", path)
        return
    yield parse_tree(path, path.parent, limits, [path.stem], path)


register(FileParser("latex", suffix_is(".tex"), parse_latex))
