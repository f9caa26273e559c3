"""Sniffing and bad input: every refusal is the right IngestError with a French message that
names the file and says what to do; the extension never decides the format.

All inputs are built in tmp_path (the 2+ page PDF comes from the committed samples).
"""

from __future__ import annotations

import io
import random
import re
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pypdf
import pytest

from pipeline.errors import (
    DamagedFileError,
    EmptyFileError,
    EncryptedError,
    IngestError,
    ReviewError,
    TooLargeError,
    UnsupportedFormatError,
)
from pipeline.ingest import ingest
from pipeline.settings import Settings

ACTIONS = ("PDF", "DOCX", "Exportez", "Déposez", "mot de passe", "Enregistrez", "Compressez", "Vérifiez", "Ouvrez")
FRENCH = re.compile(r"\b(?:le|la|les|est|fichier|du|des|pas|une?)\b", re.I)

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/></Types>'
)


def refuse(path: Path, settings: Settings, error: type[IngestError], *words: str) -> IngestError:
    """Ingest `path`, expect exactly `error`, check its French, actionable message; return it."""
    with pytest.raises(ReviewError) as info:
        ingest(path, settings)
    exc = info.value
    assert type(exc) is error, f"{type(exc).__name__}: {exc}"
    msg = exc.user_message
    assert msg and msg != str(exc), "user_message must be the French text, not the English log line"
    assert FRENCH.search(msg), msg
    assert any(a in msg for a in ACTIONS), f"the message does not say what to do: {msg}"
    assert path.name in msg, msg
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"
    return exc


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def zip_bytes(entries: dict[str, bytes | str], first: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        if first is not None:  # ODF: "mimetype" first and stored
            zf.writestr(zipfile.ZipInfo(first), entries.pop(first), compress_type=zipfile.ZIP_STORED)
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def lock_file_bytes(user: str = "Marie Dupont") -> bytes:
    """Word's owner file: a length byte, the user name, padding, the name again in UTF-16; 162 bytes."""
    name = user.encode("latin-1")
    data = bytes([len(name)]) + name + b" " * (54 - len(name)) + bytes([len(user), 0]) + user.encode("utf-16-le")
    return data + b"\x00" * (162 - len(data))


# --- empty, garbage, wrong containers ------------------------------------------------------------


def test_empty_file(tmp_path: Path, settings: Settings) -> None:
    refuse(write(tmp_path, "dossier.pdf", b""), settings, EmptyFileError, "vide")


def test_random_bytes_named_pdf(tmp_path: Path, settings: Settings) -> None:
    data = random.Random(7).randbytes(8192)
    assert b"%PDF-" not in data[:1024] and not data.startswith((b"PK", b"\xd0\xcf"))
    refuse(write(tmp_path, "dossier.pdf", data), settings, UnsupportedFormatError, "ni un PDF ni un DOCX")


def test_pdf_header_then_garbage(tmp_path: Path, settings: Settings) -> None:
    data = b"%PDF-1.7\n" + random.Random(3).randbytes(4096)
    refuse(write(tmp_path, "dossier.pdf", data), settings, DamagedFileError, "Exportez")


def test_png_named_docx(tmp_path: Path, settings: Settings) -> None:
    refuse(write(tmp_path, "dossier.docx", png_bytes()), settings, UnsupportedFormatError, "PNG", "OCR")


def test_odt_named_docx(tmp_path: Path, settings: Settings) -> None:
    data = zip_bytes(
        {
            "mimetype": b"application/vnd.oasis.opendocument.text",
            "content.xml": "<office:document-content/>",
            "META-INF/manifest.xml": "<manifest:manifest/>",
        },
        first="mimetype",
    )
    refuse(write(tmp_path, "dossier.docx", data), settings, UnsupportedFormatError, "OpenDocument", ".docx")


def test_ole_doc_renamed_docx(tmp_path: Path, settings: Settings) -> None:
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4088)
    refuse(write(tmp_path, "dossier.docx", data), settings, UnsupportedFormatError, ".doc", ".docx")


def test_password_protected_word_file(tmp_path: Path, settings: Settings) -> None:
    # an encrypted DOCX is an OLE container holding an "EncryptedPackage" stream
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "EncryptedPackage".encode("utf-16-le") + bytes(512)
    refuse(write(tmp_path, "dossier.docx", data), settings, EncryptedError, "mot de passe")


@pytest.mark.parametrize("name", ["~$dossier.docx", "dossier.docx"])
def test_word_lock_file(tmp_path: Path, settings: Settings, name: str) -> None:
    data = lock_file_bytes()
    assert len(data) == 162
    refuse(write(tmp_path, name, data), settings, UnsupportedFormatError, "verrouillage", "Déposez")


def test_truncated_docx(tmp_path: Path, settings: Settings) -> None:
    good = zip_bytes({"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": "<w:document/>" + "x" * 5000})
    refuse(write(tmp_path, "dossier.docx", good[: len(good) // 2]), settings, UnsupportedFormatError, "endommagée")


def test_docx_with_broken_document_xml(tmp_path: Path, settings: Settings) -> None:
    data = zip_bytes({"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": "<w:document><not xml"})
    refuse(write(tmp_path, "dossier.docx", data), settings, DamagedFileError, "DOCX")


def test_excel_workbook_named_docx(tmp_path: Path, settings: Settings) -> None:
    data = zip_bytes({"[Content_Types].xml": CONTENT_TYPES, "xl/workbook.xml": "<workbook/>"})
    refuse(write(tmp_path, "dossier.docx", data), settings, UnsupportedFormatError, "PDF")


def test_plain_zip_named_docx(tmp_path: Path, settings: Settings) -> None:
    data = zip_bytes({"notes.txt": "bonjour"})
    refuse(write(tmp_path, "dossier.docx", data), settings, UnsupportedFormatError, "DOCX")


def test_missing_file_and_directory(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(IngestError) as info:
        ingest(tmp_path / "absent.pdf", settings)
    assert "introuvable" in info.value.user_message and "Vérifiez" in info.value.user_message
    with pytest.raises(IngestError) as info:
        ingest(tmp_path, settings)
    assert "dossier, pas un fichier" in info.value.user_message


# --- the extension never decides ------------------------------------------------------------------


def test_docx_named_pdf_and_pdf_named_docx_are_read(tmp_path: Path, settings: Settings, samples_dir: Path) -> None:
    pdfs = sorted(samples_dir.glob("*/*.pdf"))
    if not pdfs:
        pytest.skip("no sample PDF")
    docx_mod = pytest.importorskip("docx")
    doc = docx_mod.Document()
    doc.add_paragraph("Un document Word enregistré avec la mauvaise extension.")
    buf = io.BytesIO()
    doc.save(buf)
    assert ingest(write(tmp_path, "vrai-docx.pdf", buf.getvalue()), settings).format == "docx"
    assert ingest(write(tmp_path, "vrai-pdf.docx", pdfs[0].read_bytes()), settings).format == "pdf"


# --- limits -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DOCX-like zip whose word/document.xml is 300 MB of zeros (about 300 KB compressed)."""
    path = tmp_path_factory.mktemp("bomb") / "dossier.docx"
    block = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        with zf.open("word/document.xml", "w") as fh:
            for _ in range(300):
                fh.write(block)
    return path


def test_zip_bomb(zip_bomb: Path, tmp_path: Path) -> None:
    assert zip_bomb.stat().st_size < 2_000_000
    refuse(zip_bomb, Settings(data_dir=tmp_path), TooLargeError, "décompressé", "PDF")


def test_file_over_max_file_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, "dossier.pdf", b"%PDF-1.4\n" + bytes(2000))
    refuse(path, Settings(data_dir=tmp_path, max_file_bytes=1000), TooLargeError, "Mo", "Compressez")


def _multi_page_sample(samples_dir: Path) -> Path:
    for pdf in sorted(samples_dir.glob("*/*.pdf")):
        if len(pypdf.PdfReader(pdf).pages) >= 2:
            return pdf
    pytest.skip("no sample PDF of 2 pages or more")


def test_pdf_over_max_pages(tmp_path: Path, samples_dir: Path) -> None:
    pdf = _multi_page_sample(samples_dir)
    path = write(tmp_path, pdf.name, pdf.read_bytes())
    refuse(path, Settings(data_dir=tmp_path, max_pages=1), TooLargeError, "pages", "limite de 1", "Déposez")


def test_pdf_over_max_chars(tmp_path: Path, samples_dir: Path) -> None:
    pdf = _multi_page_sample(samples_dir)
    path = write(tmp_path, pdf.name, pdf.read_bytes())
    refuse(path, Settings(data_dir=tmp_path, max_chars=100), TooLargeError, "caractères", "Déposez")


def test_pdf_over_max_chars_message_keeps_punctuation_and_name(tmp_path: Path, samples_dir: Path) -> None:
    pdf = _multi_page_sample(samples_dir)
    path = write(tmp_path, "dossier,v2.pdf", pdf.read_bytes())
    exc = refuse(path, Settings(data_dir=tmp_path, max_chars=100), TooLargeError)
    assert "texte, au-delà" in exc.user_message


def test_docx_over_max_chars(tmp_path: Path) -> None:
    docx_mod = pytest.importorskip("docx")
    doc = docx_mod.Document()
    for i in range(20):
        doc.add_paragraph(f"Paragraphe {i} du dossier, assez long pour dépasser la limite de caractères.")
    path = tmp_path / "dossier.docx"
    doc.save(path)
    refuse(path, Settings(data_dir=tmp_path, max_chars=500), TooLargeError, "caractères", "Déposez")


# --- a DOCX without a body, and what the CLI shows for bad input -----------------------------------

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def bodyless_docx() -> bytes:
    """A python-docx document whose word/document.xml lost its <w:body> (opens, but has no body)."""
    docx_mod = pytest.importorskip("docx")
    doc = docx_mod.Document()
    doc.add_paragraph("Texte du dossier.")
    buf = io.BytesIO()
    doc.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "word/document.xml":
                data = re.sub(rb"<w:body>.*</w:body>", b"", data, flags=re.S)
                assert b"<w:body" not in data
            dst.writestr(info.filename, data)
    return out.getvalue()


def test_docx_without_body(tmp_path: Path, settings: Settings) -> None:
    refuse(write(tmp_path, "dossier.docx", bodyless_docx()), settings, DamagedFileError, "Exportez")


def test_docx_without_body_is_handled_by_the_parser(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(IngestError) as info:
        ingest(write(tmp_path, "dossier.docx", bodyless_docx()), settings)
    assert "parser failure" not in str(info.value)
    assert not isinstance(info.value.__cause__, AttributeError)


def _cli() -> str:
    exe = Path(sys.executable).parent / "dossier-review"
    found = str(exe) if exe.is_file() else shutil.which("dossier-review")
    if not found:
        pytest.skip("console script dossier-review not installed")
    return found


def _check_cli_refusal(proc: subprocess.CompletedProcess[str], name: str) -> None:
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stdout == ""
    assert "Erreur" in proc.stderr and name in proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("case", ["empty", "png", "odt"])
def test_cli_bad_input_exit_2_french_no_traceback(tmp_path: Path, case: str) -> None:
    data = {
        "empty": b"",
        "png": png_bytes(),
        "odt": zip_bytes(
            {"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": "<x/>"}, first="mimetype"
        ),
    }[case]
    path = write(tmp_path, "dossier.docx", data)
    proc = subprocess.run(
        [_cli(), "parse", str(path), "--json", "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    _check_cli_refusal(proc, "dossier.docx")


CRASHING_CLI = """
import sys
import pipeline.ingest.docx as docx_reader  # ingest imports its parsers when it reads: patch them at the source

def crash(*args, **kwargs):
    raise AttributeError("'NoneType' object has no attribute 'findall'")

docx_reader.parse_docx = crash
from pipeline.cli import app
app()
"""


def test_cli_parser_crash_shows_no_traceback(tmp_path: Path) -> None:
    docx_mod = pytest.importorskip("docx")
    doc = docx_mod.Document()
    doc.add_paragraph("Texte du dossier.")
    path = tmp_path / "dossier.docx"
    doc.save(path)
    proc = subprocess.run(
        [sys.executable, "-c", CRASHING_CLI, "parse", str(path), "--json", "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert "structure inattendue ou endommagée" in " ".join(proc.stderr.split())  # the crash did happen
    _check_cli_refusal(proc, "dossier.docx")
