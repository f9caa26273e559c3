#!/usr/bin/env python3
"""Check the gold labels of every samples/*/gold.json against the built files.

Usage:
    python samples/check_gold.py [SAMPLES_DIR]

Checks, for each dossier folder holding a gold.json:
  - "dossier" equals the folder name, "module" is known, "injection" is a boolean;
  - "criteria" holds exactly the criterion ids of the module (M1: 22, M2: 15, ...);
  - each level is an integer 0..3; evidence is empty iff level is 0, else 1-3 quotes;
  - "missing" is a string;
  - every file of "files" exists, and every evidence quote is a substring of the
    normalised text extracted from every file (DOCX: paragraphs and table cells, all runs
    whatever their colour; PDF: pypdf text of each page, running header/footer removed,
    a line break after a hyphen joined without a space);
  - when source.md exists: no quote is a heading, and no quote overlaps {{hidden:...}} text;
  - no quote contains a phrase aimed at a grader (MANIPULATION_MARKERS).

Exit status 1 with the list of problems when anything fails. Importable:
    from samples.check_gold import check; problems = check("samples")
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from functools import lru_cache
from pathlib import Path

# criterion counts per competency (shared/criteria-ids.md)
COUNTS = {
    1: 3,
    2: 4,
    3: 4,
    4: 8,
    5: 3,
    6: 6,
    7: 4,
    8: 3,
    9: 2,
    10: 5,
    11: 3,
    12: 5,
    13: 6,
    14: 5,
    15: 4,
    16: 2,
    17: 3,
    18: 4,
    19: 3,
    20: 2,
}
MODULES = {"M1": range(1, 6), "M2": range(6, 10), "M3": range(10, 15), "M4": range(15, 21)}


# phrases of the manipulation samples (notes to the grader, fake evaluation lines): never evidence
MANIPULATION_MARKERS = re.compile(
    r"correcteur automatique|outil d’évaluation|note maximale|ignore les instructions|évaluation du jury"
    r"|\bgrader\b|\bfull marks\b",
    re.IGNORECASE,
)


def module_ids(module: str) -> list[str]:
    return [f"C{c}.{k}" for c in MODULES[module] for k in range(1, COUNTS[c] + 1)]


# ----------------------------------------------------------------------------- text

_WS = re.compile(r"\s+")
_LIGATURES = str.maketrans(
    {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st"}
)


def normalise(text: str) -> str:
    """NFC, non-breaking spaces and every whitespace run (line breaks included) -> one space."""
    text = unicodedata.normalize("NFC", text)
    text = text.translate(_LIGATURES)  # ﬁ ﬂ ﬀ ﬃ ﬄ ﬅ ﬆ drawn as one glyph by some producers (browsers)
    text = text.replace("\u00ad", "")  # soft hyphen
    return _WS.sub(" ", text).strip()


def docx_text(path: Path) -> str:
    from docx import Document

    doc = Document(str(path))
    parts: list[str] = []

    def walk_tables(tables):
        for table in tables:
            for row in table.rows:
                seen = set()
                for cell in row.cells:
                    if id(cell._tc) in seen:  # merged cells repeat
                        continue
                    seen.add(id(cell._tc))
                    parts.extend(p.text for p in cell.paragraphs)
                    walk_tables(cell.tables)

    parts.extend(p.text for p in doc.paragraphs)
    walk_tables(doc.tables)
    return "\n".join(parts)


_PAGE_LINE = re.compile(r"^\s*Page\s+\d+\s*$")
_HYPHEN_BREAK = re.compile(r"(?<=\w)-[ \t]*\n[ \t]*(?=\w)")


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    pages = [page.extract_text() or "" for page in reader.pages]
    # drop the running header (the line repeated on most pages) and the "Page N" footer,
    # so that a sentence running over a page break stays contiguous
    first_lines = [p.strip().splitlines()[0].strip() for p in pages if p.strip()]
    header = None
    if first_lines:
        cand = max(set(first_lines), key=first_lines.count)
        if first_lines.count(cand) >= max(2, len(first_lines) // 2):
            header = cand
    cleaned = []
    for number, text in enumerate(pages, start=1):
        lines = [
            ln for ln in text.splitlines() if not _PAGE_LINE.match(ln) and (header is None or ln.strip() != header)
        ]
        # a bare page number as the page's last line (LaTeX, browsers, slide decks); numbering may
        # start after an unnumbered title page (the PDF's 9th page printed « 8 »)
        while lines and not lines[-1].strip():
            lines.pop()
        if lines and lines[-1].strip() in (str(number), str(number - 1)):
            lines.pop()
        cleaned.append("\n".join(lines))
    # a line broken after a hyphen ("qualité-\nprix") is a compound word: join without a space;
    # every other line break becomes a space in normalise()
    return _HYPHEN_BREAK.sub("-", "\n".join(cleaned))


@lru_cache(maxsize=64)
def file_text(path_str: str) -> str:
    path = Path(path_str)
    suffix = path.suffix.lower()
    if suffix == ".docx":
        return normalise(docx_text(path))
    if suffix == ".pdf":
        return normalise(pdf_text(path))
    raise ValueError(f"unsupported file type: {path.name}")


# ----------------------------------------------------------------------------- source.md

_HIDDEN = re.compile(r"\{\{hidden:(.*?)\}\}", re.S)


def source_info(folder: Path) -> tuple[set[str], list[str]]:
    """Headings and hidden segments of source.md (normalised)."""
    src = folder / "source.md"
    if not src.exists():
        return set(), []
    text = src.read_text(encoding="utf-8")
    headings = set()
    for line in text.splitlines():
        m = re.match(r"^#{1,3}\s+(.*\S)", line.strip())
        if m:
            headings.add(normalise(m.group(1).replace("**", "")))
    hidden = [normalise(h) for h in _HIDDEN.findall(text)]
    return headings, hidden


# ----------------------------------------------------------------------------- check


def check_dossier(folder: Path) -> list[str]:
    problems: list[str] = []
    name = folder.name

    def bad(msg: str) -> None:
        problems.append(f"{name}: {msg}")

    try:
        gold = json.loads((folder / "gold.json").read_text(encoding="utf-8"))
    except Exception as exc:
        return [f"{name}: gold.json unreadable: {exc}"]

    if gold.get("dossier") != name:
        bad(f"'dossier' is {gold.get('dossier')!r}, expected {name!r}")
    module = gold.get("module")
    if module not in MODULES:
        bad(f"unknown module {module!r}")
        return problems
    if not isinstance(gold.get("injection"), bool):
        bad("'injection' must be true or false")

    files = gold.get("files")
    if not isinstance(files, list) or not files:
        bad("'files' must be a non-empty list")
        files = []
    texts: dict[str, str] = {}
    for f in files:
        path = folder / f
        if not path.is_file():
            bad(f"file {f} does not exist")
            continue
        try:
            texts[f] = file_text(str(path.resolve()))
        except Exception as exc:
            bad(f"cannot extract text from {f}: {exc}")

    criteria = gold.get("criteria")
    if not isinstance(criteria, dict):
        bad("'criteria' must be an object")
        return problems
    expected = module_ids(module)
    missing_ids = [c for c in expected if c not in criteria]
    extra_ids = [c for c in criteria if c not in expected]
    if missing_ids:
        bad(f"criteria missing: {', '.join(missing_ids)}")
    if extra_ids:
        bad(f"unexpected criteria for {module}: {', '.join(extra_ids)}")
    if len(criteria) != len(expected):
        bad(f"{len(criteria)} criteria, expected {len(expected)} for {module}")

    headings, hidden = source_info(folder)
    for cid, entry in criteria.items():
        if not isinstance(entry, dict):
            bad(f"{cid}: entry must be an object")
            continue
        level = entry.get("level")
        if not isinstance(level, int) or isinstance(level, bool) or not 0 <= level <= 3:
            bad(f"{cid}: level {level!r} not an integer in 0..3")
            continue
        evidence = entry.get("evidence")
        if not isinstance(evidence, list) or not all(isinstance(q, str) for q in evidence):
            bad(f"{cid}: evidence must be a list of strings")
            continue
        if level == 0 and evidence:
            bad(f"{cid}: level 0 but {len(evidence)} quote(s)")
        if level > 0 and not 1 <= len(evidence) <= 3:
            bad(f"{cid}: level {level} needs 1-3 quotes, has {len(evidence)}")
        if not isinstance(entry.get("missing"), str):
            bad(f"{cid}: 'missing' must be a string")
        for quote in evidence:
            q = normalise(quote)
            short = q if len(q) <= 70 else q[:67] + "..."
            if not q:
                bad(f"{cid}: empty quote")
                continue
            if q.replace("**", "") in headings:
                bad(f"{cid}: quote is a heading: {short!r}")
            if any(q in h or h in q for h in hidden if h):
                bad(f"{cid}: quote overlaps hidden text: {short!r}")
            if MANIPULATION_MARKERS.search(q):
                bad(f"{cid}: quote looks like text aimed at a grader: {short!r}")
            if "**" in quote or "{{" in quote:
                bad(f"{cid}: quote contains markup: {short!r}")
            for f, text in texts.items():
                if q not in text:
                    bad(f"{cid}: quote not found in {f}: {short!r}")
    return problems


def check(samples_dir: str | Path = Path(__file__).resolve().parent) -> list[str]:
    """Return the list of problems of every <samples_dir>/*/gold.json (empty when all pass)."""
    samples_dir = Path(samples_dir)
    problems: list[str] = []
    golds = sorted(samples_dir.glob("*/gold.json"))
    for gold in golds:
        problems.extend(check_dossier(gold.parent))
    return problems


def main(argv: list[str]) -> int:
    samples_dir = Path(argv[0]) if argv else Path(__file__).resolve().parent
    golds = sorted(samples_dir.glob("*/gold.json"))
    problems = check(samples_dir)
    for p in problems:
        print(p)
    failed = {p.split(":", 1)[0] for p in problems}
    print(f"{len(golds)} dossier(s) checked, {len(failed)} with problems, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
