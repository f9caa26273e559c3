"""DOCX page count without a saved layout (LibreOffice, Google Docs, generated files): estimated
from page size, fonts, spacing, pictures, tables and explicit breaks, within one page of what
LibreOffice renders (issue 12)."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest

docx = pytest.importorskip("docx")
from docx.enum.section import WD_SECTION  # noqa: E402
from docx.enum.text import WD_BREAK  # noqa: E402
from docx.oxml import OxmlElement  # noqa: E402
from docx.shared import Cm, Pt  # noqa: E402
from PIL import Image  # noqa: E402

from pipeline.ingest import ingest  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from tests.libreoffice import pdf_pages, to_pdf  # noqa: E402
from tests.test_ingest_reading import BODY  # noqa: E402

SENTENCES = (
    "La stratégie commerciale repose sur une analyse précise du marché régional et de ses clients professionnels. ",
    "Nous avons interrogé quarante acheteurs, relevé les prix de six concurrents directs et suivi leurs campagnes. ",
    "Le plan d’actions fixe trois priorités chiffrées pour les deux prochaines années, avec un budget par canal. ",
)


def _text(n: int, k: int = 0) -> str:
    return "".join(SENTENCES[(k + i) % 3] for i in range(n)).strip()


def _png(cm_height: float) -> io.BytesIO:
    buf = io.BytesIO()
    Image.new("RGB", (300, int(300 * cm_height / 12)), (30, 90, 160)).save(buf, format="PNG")
    buf.seek(0)
    return buf


def plain(path: Path) -> None:
    """Long running text in a serif font, headings, no break at all."""
    document = docx.Document()
    style = document.styles["Normal"]
    style.font.name, style.font.size = "Liberation Serif", Pt(12)
    for i in range(14):
        document.add_heading(f"{i + 1}. Partie {i + 1}", level=1)
        for k in range(4):
            document.add_paragraph(_text(4 + k % 3, k))
    document.save(str(path))


def mixed(path: Path) -> None:
    """Sans-serif text, a wide table of long cells, an inline picture, a page break and a
    new-page section break."""
    document = docx.Document()
    style = document.styles["Normal"]
    style.font.name, style.font.size = "Liberation Sans", Pt(10.5)
    for k in range(6):
        document.add_paragraph(_text(3, k))
    document.add_picture(_png(9), width=Cm(12))
    table = document.add_table(rows=18, cols=3)
    for r, row in enumerate(table.rows):
        for c, cell in enumerate(row.cells):
            cell.text = _text(1 + (r + c) % 3, r)
    p = document.add_paragraph(_text(2))
    p.add_run().add_break(WD_BREAK.PAGE)
    for k in range(8):
        document.add_paragraph(_text(5, k))
    document.add_section(WD_SECTION.NEW_PAGE)
    for k in range(10):
        document.add_paragraph(_text(4, k))
    document.save(str(path))


def test_docx_page_estimate_is_within_one_page_of_libreoffice(tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None or shutil.which("pdfinfo") is None:
        pytest.skip("LibreOffice or poppler not installed")
    files = [tmp_path / "plain.docx", tmp_path / "mixed.docx"]
    plain(files[0])
    mixed(files[1])
    cmd = [soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless", "--convert-to", "pdf"]
    proc = subprocess.run([*cmd, "--outdir", str(tmp_path), *map(str, files)], capture_output=True, timeout=180)
    for f in files:
        pdf = f.with_suffix(".pdf")
        if not pdf.exists():
            pytest.skip(f"soffice could not export {f.name}: {proc.stderr[-300:]!r}")
        rendered = pdf_pages(pdf)
        d = ingest(f, Settings(data_dir=tmp_path / "data"))
        assert d.pages is not None and rendered >= 3
        assert abs(d.pages - rendered) <= 1, (f.name, d.pages, rendered)


def _sections_with_tables(path: Path, kept: bool) -> None:
    """Three sections, each a heading, a caption and a 22-row "Table Grid" table: with Word's
    "keep with next" on the caption and on every row but the last, each section needs a page of
    its own; without, the tables run on from page to page."""

    def keep(p: object) -> None:
        if kept:
            p._p.get_or_add_pPr().append(OxmlElement("w:keepNext"))  # type: ignore[attr-defined]

    document = docx.Document()
    document.add_paragraph(BODY[0] * 3)
    for i in range(3):
        document.add_heading(f"{i + 1}. Les actions de la phase {i + 1}", level=1)
        keep(document.add_paragraph(f"Tableau {i + 1} : Actions et indicateurs", style="Caption"))
        table = document.add_table(rows=22, cols=3)
        table.style = "Table Grid"
        for r, row in enumerate(table.rows):
            for c, cell in enumerate(row.cells):
                cell.text = f"Action {r + 1}, indicateur {c + 1}"
                if r < 21:
                    keep(cell.paragraphs[0])
        document.add_paragraph(BODY[1])
    document.save(str(path))


@pytest.mark.skipif(not shutil.which("pdfinfo"), reason="poppler-utils (pdfinfo) is not installed")
@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice (soffice) is not installed")
@pytest.mark.parametrize("kept", [True, False])
def test_docx_page_count_follows_kept_tables_as_libreoffice_lays_them_out(tmp_path: Path, kept: bool) -> None:
    path = tmp_path / f"sections-{kept}.docx"
    _sections_with_tables(path, kept)
    rendered = pdf_pages(to_pdf(path, tmp_path))
    assert rendered == (3 if kept else 2)  # the document does what it is built for
    assert ingest(path, Settings(data_dir=tmp_path / "data")).pages == rendered
