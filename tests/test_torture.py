"""The torture corpus (`../shared/corpus/torture`, see its MANIFEST.md): one row per file.

Every file in torture/pdf and torture/docx has a row in TABLE with what ingestion must do:
return text (`Text`: substrings in reading order, page count, finding kinds present or
absent, pages of given blocks) or refuse with a named cause (`Fails`: the IngestError
subclass, with a French message naming the file). Rows whose current behaviour is wrong
are `xfail(strict=True)` with the reason: fixing the parser turns them into failures
(XPASS) until the mark is removed.

The CLI is also run on every file: JSON on exit 0, a French message on exit 2, never a
traceback.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pypdf
import pytest

from pipeline.chunking import chunk_dossier
from pipeline.errors import (
    DamagedFileError,
    EmptyFileError,
    EncryptedError,
    IngestError,
    NoTextLayerError,
    UnsupportedFormatError,
)
from pipeline.ingest import ingest
from pipeline.settings import Settings
from pipeline.types import Dossier


@dataclass(frozen=True)
class Text:
    """Ingestion succeeds."""

    contains: tuple[str, ...] = ()  # substrings of Dossier.text, in this order
    min_chars: int = 1
    pages: int | None = None  # Dossier.pages when known
    findings: frozenset[str] = frozenset()  # finding kinds that must be present
    no_findings: frozenset[str] = frozenset()  # finding kinds that must be absent
    absent: tuple[str, ...] = ()  # text that must not reach Dossier.text (headers, comments, garbage)
    block_kinds: frozenset[str] = frozenset()  # block kinds that must occur
    block_pages: tuple[tuple[str, int], ...] = ()  # (start of a block's text, its page)


@dataclass(frozen=True)
class Fails:
    """Ingestion refuses the file with one of these errors."""

    error: type[IngestError] | tuple[type[IngestError], ...]


def row(file: str, expect: Text | Fails, password: str | None = None, *, xfail: str | None = None, slow: bool = False):
    marks = []
    if xfail:
        marks.append(pytest.mark.xfail(strict=True, reason=xfail))
    if slow:
        marks.append(pytest.mark.slow)
    return pytest.param(file, password, expect, marks=marks, id=file + (f"[pw={password}]" if password else ""))


POTATO = Text(contains=("Potato",), pages=1)
ENC_TEXT = Text(contains=("pdf encryption test password: asdfzxcv",), pages=1)

TABLE = [
    # --- encrypted PDFs ---------------------------------------------------------------------
    row("pdf/enc_libreoffice_user-pw_openpassword.pdf", Fails(EncryptedError)),
    row("pdf/enc_libreoffice_user-pw_openpassword.pdf", Fails(EncryptedError), "wrong-password"),
    row(
        "pdf/enc_libreoffice_user-pw_openpassword.pdf",
        Text(contains=("Lorem ipsum dolor sit amet", "sanctus est Lorem ipsum dolor sit amet."), pages=1),
        "openpassword",
    ),
    # The owner password of this file is empty (pypdf: decrypt("") -> OWNER_PASSWORD; poppler opens it
    # without a password too), so it opens without one despite its upstream name.
    row("pdf/enc_r6_aes256_user-pw_asdfzxcv.pdf", ENC_TEXT),
    row("pdf/enc_r6_aes256_user-pw_asdfzxcv.pdf", ENC_TEXT, "asdfzxcv"),
    row("pdf/enc_r6_aes256_empty-user-pw.pdf", ENC_TEXT),
    row("pdf/enc_r4_aes128_user-pw_asdfzxcv.pdf", Fails(EncryptedError)),
    row("pdf/enc_r4_aes128_user-pw_asdfzxcv.pdf", ENC_TEXT, "asdfzxcv"),
    row("pdf/enc_r2_rc4-40_owner-only.pdf", ENC_TEXT),
    # --- broken PDFs: text recovered (with a damage finding when pypdf had to repair) ----------
    row("pdf/broken_bad-xref.pdf", Text(contains=("Potato",), pages=1, findings=frozenset({"damage"}))),
    row("pdf/broken_bad-xref-entry.pdf", Text(contains=("Potato",), pages=1, findings=frozenset({"damage"}))),
    row(
        "pdf/broken_xref-loop.pdf",
        Text(
            contains=("Potato 0 new", "Potato 1", "Potato 29"),
            pages=30,
            findings=frozenset({"damage"}),
            block_pages=(("Potato 0 new", 1), ("Potato 29", 30)),
        ),
    ),
    row("pdf/broken_bad-startxref-token.pdf", POTATO),
    row("pdf/broken_damaged-stream.pdf", POTATO),
    row(
        "pdf/broken_array-abrupt-ending.pdf",
        Text(
            contains=("RNA structure comparison", "Crystal structures of complexes"),
            pages=1,
            findings=frozenset({"damage"}),
        ),
    ),
    # --- broken PDFs: refused ---------------------------------------------------------------
    row("pdf/broken_5-bytes-garbage.pdf", Fails(UnsupportedFormatError)),  # "oops\n": not a PDF at all
    # streams undecodable (bad zlib headers), no content stream left; poppler gets 0 chars too
    row("pdf/broken_2788-malformed.pdf", Fails(DamagedFileError)),
    # page tree invalid for pypdf; poppler reads 4 pages but 0 chars of text
    row("pdf/unreadable-metadata.pdf", Fails(DamagedFileError)),
    # --- no text layer ----------------------------------------------------------------------
    row("pdf/image-only_ccitt-fax_no-text-layer.pdf", Fails(NoTextLayerError)),
    row("pdf/image-only_grayscale.pdf", Fails(NoTextLayerError)),
    row(
        "pdf/scanned-ocr-layer_vicksburg-merged.pdf",
        Text(
            contains=("THE SIEGE OF VICKSBURG", "The Crazy Ones", "Heres to the crazy ones"),
            pages=7,
            no_findings=frozenset({"hidden_text", "no_text_pages", "manipulation"}),
            block_pages=(("The Crazy Ones", 2),),
        ),
    ),
    # --- layout and scripts -----------------------------------------------------------------
    row(
        "pdf/multicolumn_latex.pdf",
        Text(
            contains=(
                "Two-Column Document with Lorem Ipsum",
                "Abstract",
                "This is a sample document with two columns",
                "Table 1: EU Countries Information",
            ),
            pages=3,
            min_chars=5000,
            block_kinds=frozenset({"heading", "paragraph"}),
        ),
    ),
    row(
        # PDFium (like pdftotext) gives right-to-left words in the order the glyphs are drawn; the
        # product reads French, so only the Latin word and the pages are checked
        "pdf/rtl-arabic_rotated-pages.pdf",
        Text(contains=("habibi",), pages=4),
    ),
    row(
        "pdf/large_117-pages_german-umlauts.pdf",
        Text(
            contains=("Einführung in die Geometrie und Topologie", "Vorwort", "Übungen"), pages=117, min_chars=100_000
        ),
        slow=True,
    ),  # the false 'damage' finding without fontTools: test_pypdf_notice_is_not_damage
    row("pdf/font_uninterpretable-type3.pdf", Fails((NoTextLayerError, DamagedFileError))),
    # --- DOCX -------------------------------------------------------------------------------
    row(
        "docx/comments-rich-para.docx",
        Text(
            contains=("Document text", "Some text worthy of note.", "Paragraph 7"),
            findings=frozenset({"comment"}),
            absent=("Text with hyperlink", "Paragraph with Heading 2 paragraph style"),
        ),
    ),
    row(
        "docx/footnotes.docx",
        Text(
            contains=(
                "This paragraph contains one footnote here.",
                "This is footnote text for the first footnote.",
                "This is footnote text for the third footnote.",
            ),
            block_kinds=frozenset({"footnote"}),
        ),
    ),
    row(
        "docx/header-footer.docx",
        Text(
            contains=("section with header", "section without header of its own."),
            pages=2,
            absent=("Header for section-1", "Footer for section"),
            block_pages=(("section with header", 1), ("section without header of its own.", 2)),
        ),
    ),
    row("docx/headers-all-types.docx", Fails(EmptyFileError)),  # headers of every type, empty body
    row(
        "docx/paras-and-tables.docx",
        Text(
            contains=("Lorem ipsum dolor sit amet", "Text before Table Between Text after", "Donec semper"),
            absent=("Left-side", "Right-side", "Copyright", "Page-number"),
            block_kinds=frozenset({"table"}),
        ),
    ),
    row("docx/nested-inner-content.docx", Text(contains=("P1", "T2", "P3"), block_kinds=frozenset({"table"}))),
    row(
        "docx/rendered-page-breaks.docx",
        Text(
            contains=(
                "No page breaks",
                "Page break here>><<followed by more text.",
                "Two page>><<breaks>><<in one run.",
            ),
            pages=6,
            block_pages=(("No page breaks", 1), ("Page break here", 1), ("Page break in", 2), ("Two page", 4)),
        ),
    ),
    row("docx/having-images.docx", Fails(EmptyFileError)),
    row("docx/no-styles-part.docx", Fails(EmptyFileError)),  # opens without styles.xml; its body is empty
    row("docx/no-settings-part.docx", Fails(EmptyFileError)),  # opens without settings.xml; its body is empty
]

TABLE_FILES = sorted({p.values[0] for p in TABLE})


def _file(torture_dir: Path, name: str) -> Path:
    path = torture_dir / name
    if not path.is_file():
        pytest.fail(f"{name} is in TABLE but missing from {torture_dir}")
    return path


def _check_text(d: Dossier, expect: Text) -> None:
    pos = 0
    for s in expect.contains:
        at = d.text.find(s, pos)
        assert at >= 0, f"{s!r} not found (in order) in the text: {d.text[:300]!r}"
        pos = at + len(s)
    assert len(d.text) >= expect.min_chars
    if expect.pages is not None:
        assert d.pages == expect.pages
    kinds = {f.kind for f in d.findings}
    assert expect.findings <= kinds, f"missing findings {expect.findings - kinds}: {d.findings}"
    assert not (expect.no_findings & kinds), [f for f in d.findings if f.kind in expect.no_findings]
    for s in expect.absent:
        assert s not in d.text
    assert expect.block_kinds <= {b.kind for b in d.blocks}
    for start, page in expect.block_pages:
        block = next((b for b in d.blocks if b.text.startswith(start)), None)
        assert block is not None, f"no block starts with {start!r}"
        assert block.page == page, f"{start!r} on page {block.page}, expected {page}"
    # invariants of every dossier
    for b in d.blocks:
        assert d.text[b.start : b.end] == b.text
    for c in chunk_dossier(d):
        assert 0 <= c.start < c.end <= len(d.text)


@pytest.mark.parametrize(("name", "password", "expect"), TABLE)
def test_torture_file(
    torture_dir: Path, settings: Settings, name: str, password: str | None, expect: Text | Fails
) -> None:
    path = _file(torture_dir, name)
    if isinstance(expect, Fails):
        with pytest.raises(IngestError) as info:
            ingest(path, settings, password=password)
        assert isinstance(info.value, expect.error), f"{type(info.value).__name__}: {info.value}"
        message = info.value.user_message
        assert path.name in message and message != str(info.value)
        if isinstance(info.value, EncryptedError):
            assert "mot de passe" in message
            if password:
                assert "incorrect" in message
    else:
        _check_text(ingest(path, settings, password=password), expect)


def test_table_lists_every_corpus_file(torture_dir: Path) -> None:
    on_disk = sorted(
        str(p.relative_to(torture_dir))
        for sub in ("pdf", "docx")
        if (torture_dir / sub).is_dir()
        for p in (torture_dir / sub).iterdir()
        if p.is_file()
    )
    missing = sorted(set(on_disk) - set(TABLE_FILES))
    assert not missing, f"torture files without a row in TABLE: {missing}"
    gone = sorted(set(TABLE_FILES) - set(on_disk))
    assert not gone, f"rows in TABLE for files no longer in the corpus: {gone}"


def test_pypdf_notice_is_not_damage(
    torture_dir: Path, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    font = pytest.importorskip("pypdf.generic._font")
    if not hasattr(font, "HAS_FONTTOOLS"):
        pytest.skip("pypdf no longer has generic._font.HAS_FONTTOOLS")
    monkeypatch.setattr(font, "HAS_FONTTOOLS", False)  # as in an install without fontTools
    reader = pypdf.PdfReader(_file(torture_dir, "pdf/large_117-pages_german-umlauts.pdf"))
    writer = pypdf.PdfWriter()
    for page in reader.pages[:4]:  # an intact 4-page PDF with CFF Type1 fonts
        writer.add_page(page)
    path = tmp_path / "geotopo-4-pages.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    dossier = ingest(path, settings)
    assert "Einführung in die Geometrie und Topologie" in dossier.text
    assert [f for f in dossier.findings if f.kind == "damage"] == []


# --- the real CLI -------------------------------------------------------------------------------


def _cli() -> str:
    found = Path(sys.executable).parent / "dossier-review"
    if found.is_file():
        return str(found)
    which = shutil.which("dossier-review")
    if which is None:
        pytest.skip("console script dossier-review not installed")
    return which


def _cli_rows():
    """One CLI run per file (no password), plus the password option once."""
    seen: set[str] = set()
    out = []
    for p in TABLE:
        name, password, expect = p.values
        if (password is None and name not in seen) or password == "openpassword":
            seen.add(name)
            xfailed = any(m.name == "xfail" for m in p.marks)
            marks = [m for m in p.marks if m.name == "slow"]
            out.append(pytest.param(name, password, None if xfailed else expect, marks=marks, id=p.id))
    return out


@pytest.mark.parametrize(("name", "password", "expect"), _cli_rows())
def test_cli_parse_json(
    torture_dir: Path, tmp_path: Path, name: str, password: str | None, expect: Text | Fails | None
) -> None:
    path = _file(torture_dir, name)
    cmd = [_cli(), "parse", str(path), "--json", "--data-dir", str(tmp_path / "data")]
    if password:
        cmd += ["--password", password]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output, output[-3000:]
    assert proc.returncode in (0, 2), output[-3000:]
    if proc.returncode == 0:
        data = json.loads(proc.stdout)
        assert {"file", "format", "pages", "blocks", "chunks", "findings"} <= data.keys()
        assert data["file"] == path.name and data["format"] == path.suffix[1:]
        assert data["blocks"]
    else:
        assert proc.stdout.strip() == ""
        assert "Erreur" in proc.stderr and path.name in " ".join(proc.stderr.split())
    if expect is not None:  # agrees with the table (rows known to be wrong are not held to it)
        assert proc.returncode == (2 if isinstance(expect, Fails) else 0), output[-2000:]
