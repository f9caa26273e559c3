"""What the reader reads, per file, against a reference extractor; prints figures, never a test.

    python benchmarks/reading.py DIR [--json OUT] [--no-reference]

For every PDF and DOCX under DIR (recursively): words of our text found in the reference text and
reference words found in ours (pdftotext for PDF, LibreOffice's text export for DOCX), the share of
glued tokens (a token of ours that is two reference words stuck together), garbled words left,
hidden spans, finding kinds, headings, the share of chunks in the largest section (a file whose
chunks fall in fewer than three sections is marked unstructured: it is located by page), page count
(DOCX: against the pages LibreOffice renders) and parse time. A DOCX and a PDF with the same stem
are also compared with each other (word overlap, both ways).

Reference tools are Debian's poppler-utils and libreoffice; a file whose reference cannot be made
is still measured (reference columns empty).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.chunking import chunk_dossier  # noqa: E402
from pipeline.errors import IngestError  # noqa: E402
from pipeline.ingest import ingest  # noqa: E402
from pipeline.ingest.lexicon import GARBLED_IN_WORD, french_words  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.textnorm import normalise, words  # noqa: E402

_GARBLED = GARBLED_IN_WORD


def reference_text(path: Path, work: Path) -> str | None:
    if path.suffix.lower() == ".pdf":
        if not shutil.which("pdftotext"):
            return None
        out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, timeout=120)
        return out.stdout.decode("utf-8", "replace") if out.returncode == 0 else None
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        return None
    target = work / (path.stem + ".txt")
    subprocess.run(
        [soffice, "--headless", "--convert-to", "txt:Text (encoded):UTF8", "--outdir", str(work), str(path)],
        capture_output=True,
        timeout=300,
    )
    return target.read_text(encoding="utf-8", errors="replace") if target.exists() else None


def rendered_pages(path: Path, work: Path) -> int | None:
    """Pages LibreOffice lays a DOCX out on."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice or not shutil.which("pdfinfo"):
        return None
    subprocess.run(
        [soffice, "--headless", "--convert-to", "pdf", "--outdir", str(work), str(path)],
        capture_output=True,
        timeout=300,
    )
    pdf = work / (path.stem + ".pdf")
    if not pdf.exists():
        return None
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    m = re.search(r"^Pages:\s+(\d+)", info, re.M)
    return int(m.group(1)) if m else None


def overlap(a: list[str], b: list[str]) -> float:
    ca, cb = Counter(a), Counter(b)
    return sum((ca & cb).values()) / max(sum(ca.values()), 1)


def glued(ours: list[str], reference: list[str]) -> tuple[int, list[str]]:
    """Tokens of ours absent from the reference that split into two reference words. A French word
    is not counted: it is a word the reference left cut ('réceptionniste' drawn as 'récepti' /
    'onniste' at a narrow box's edge, which the reader joins and pdftotext does not)."""
    vocab = set(reference)
    lexicon = french_words()
    hits = []
    for tok in set(ours):
        if tok in vocab or len(tok) < 4 or tok.isdigit() or tok in lexicon:
            continue
        for i in range(1, len(tok)):
            left, right = tok[:i], tok[i:]
            if left in vocab and right in vocab and (len(left) > 1 or left in ("a", "à", "y")):
                hits.append(tok)
                break
    count = sum(c for t, c in Counter(ours).items() if t in set(hits))
    return count, sorted(hits)[:8]


def measure(path: Path, work: Path, with_reference: bool) -> dict[str, object]:
    settings = Settings(data_dir=work / "data")
    t = time.perf_counter()
    try:
        d = ingest(path, settings)
    except IngestError as e:
        return {"file": path.name, "error": e.user_message}
    seconds = time.perf_counter() - t
    chunks = chunk_dossier(d)
    ours = words(d.text)
    row: dict[str, object] = {
        "file": path.name,
        "format": d.format,
        "seconds": round(seconds, 2),
        "pages": d.pages,
        "words": len(ours),
        "headings": sum(1 for b in d.blocks if b.kind == "heading"),
        "findings": dict(Counter(f.kind for f in d.findings)),
        "hidden": [f.text[:80] for f in d.findings if f.kind == "hidden_text"],
        "garbled_words": len(_GARBLED.findall(d.text)),
    }
    sections = Counter(c.section_label for c in chunks)
    row["chunks"] = len(chunks)
    row["largest_section_share"] = round(max(sections.values()) / len(chunks), 2) if chunks else 0.0
    # a structured report: its chunks fall in three sections or more (a note without headings, a
    # slide-less letter, is located by page instead, and the share says nothing about its reading)
    row["structured"] = len(sections) >= 3
    row["largest_section"] = sections.most_common(1)[0][0][:60] if chunks else ""
    if with_reference:
        ref_text = reference_text(path, work)
        if ref_text is not None:
            ref = words(normalise(ref_text))
            row["ours_in_reference"] = round(overlap(ours, ref), 3)
            row["reference_in_ours"] = round(overlap(ref, ours), 3)
            n, examples = glued(ours, ref)
            row["glued_rate"] = round(n / max(len(ours), 1), 4)
            row["glued_examples"] = examples
        if d.format == "docx":
            row["libreoffice_pages"] = rendered_pages(path, work)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--json", type=Path, help="write all rows here")
    ap.add_argument("--no-reference", action="store_true", help="skip pdftotext / LibreOffice")
    args = ap.parse_args()
    files = sorted(p for p in args.dir.rglob("*") if p.suffix.lower() in (".pdf", ".docx") and p.is_file())
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        texts: dict[Path, list[str]] = {}
        for path in files:
            row = measure(path, work, not args.no_reference)
            rows.append(row)
            _print(row)
            if "error" not in row:
                texts[path] = words(ingest(path, Settings(data_dir=work / "data")).text)
        for path in files:
            twin = path.with_suffix(".pdf")
            if path.suffix.lower() == ".docx" and twin in texts and path in texts:
                a, b = texts[path], texts[twin]
                pair = {
                    "pair": path.stem,
                    "docx_in_pdf": round(overlap(a, b), 3),
                    "pdf_in_docx": round(overlap(b, a), 3),
                }
                rows.append(pair)
                print(f"  pair {path.stem}: DOCX in PDF {pair['docx_in_pdf']}, PDF in DOCX {pair['pdf_in_docx']}")
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    french_words.cache_clear()


def _print(row: dict[str, object]) -> None:
    if "error" in row:
        print(f"{row['file']}: refused: {row['error']}")
        return
    ref = (
        f"ours∈ref {row.get('ours_in_reference', '-')} ref∈ours {row.get('reference_in_ours', '-')} "
        f"glued {row.get('glued_rate', '-')} {row.get('glued_examples', '')}"
    )
    lo = f" (LibreOffice {row['libreoffice_pages']})" if "libreoffice_pages" in row else ""
    pages = f"pages {row['pages']}{lo}"
    print(
        f"{row['file']}: {row['format']} {row['seconds']} s, {pages}, {row['words']} words; {ref}; "
        f"garbled {row['garbled_words']}; hidden {len(row['hidden'])} {row['hidden'][:3]}; "  # type: ignore[arg-type]
        f"findings {row['findings']}; headings {row['headings']}; chunks {row['chunks']}, largest section "
        f"{row['largest_section_share']} ({row['largest_section']}){'' if row['structured'] else ' unstructured'}"
    )


if __name__ == "__main__":
    main()
