"""Page images of a dossier for the review workspace, and where a quote sits on a page.

Pages are rendered by PDFium (pypdfium2, already what reads PDF text) once, then cached under
`cache/pages/<sha256>/`: keyed by the file's hash like every other cache, so erasing the file
(`pipeline/erasure.py`) removes them. A quote is found on the page from PDFium's own characters
(whitespace- and case-insensitive), so its boxes are those of the glyphs the reader sees.

A DOCX has no pages of its own: when LibreOffice (`soffice`) is installed, its PDF rendition is
made once, in the background as soon as the review is opened, and kept in the same folder
(`rendition.pdf`), so the same code draws its pages and finds its quotes; LibreOffice's page
breaks may differ from Word's, so a quote is looked for on every page, not only on the one the
reader noted. Without LibreOffice the workspace shows the text only, and says so.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

import pypdfium2 as pdfium
from pydantic import BaseModel, ConfigDict, Field

from pipeline.settings import Settings

SCALE = 1.5  # 108 dpi: a page at 1 px per CSS px on a 900 px wide pane, about 150-250 KB of PNG
MAX_PAGES = 2000
_lock = threading.Lock()  # PDFium is not thread-safe
RENDITION = "rendition.pdf"
RENDITION_FAILED = "rendition.failed"
SOFFICE_TIMEOUT_S = 180
_renditions: dict[str, threading.Lock] = {}  # one conversion of a file at a time
_renditions_lock = threading.Lock()
_converting: set[subprocess.Popen[bytes]] = set()  # LibreOffice runs, each in a process group of its own
log = logging.getLogger(__name__)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill a conversion with everything it started (`soffice` runs `soffice.bin`, which outlives
    its parent when only that one is killed)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


_stopping = threading.Event()  # the process is exiting: a conversion killed now did not fail


@atexit.register
def _stop_conversions() -> None:
    """The server stops: conversions still running (daemon threads) are not left behind as orphans,
    and are not marked failed (the next start makes them again)."""
    _stopping.set()
    for proc in list(_converting):
        _stop(proc)


class Box(BaseModel):
    """A rectangle on the page as fractions of its width and height, from the top left."""

    model_config = ConfigDict(extra="forbid")
    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)
    w: float = Field(ge=0, le=1)
    h: float = Field(ge=0, le=1)


class Located(BaseModel):
    """Where a quote was found: its page (None: on no page) and its boxes there."""

    model_config = ConfigDict(extra="forbid")
    page: int | None
    boxes: list[Box]


def page_cache_dir(settings: Settings, sha256: str) -> Path:
    return settings.cache_dir / "pages" / sha256


def soffice() -> str | None:
    """LibreOffice's command, when it is installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def docx_rendition(settings: Settings, sha256: str, docx: Path) -> Path | None:
    """The DOCX's PDF rendition by LibreOffice, made once and cached beside its page images; None
    without LibreOffice or when the conversion failed (then not tried again for this file)."""
    folder = page_cache_dir(settings, sha256)
    pdf, failed = folder / RENDITION, folder / RENDITION_FAILED
    if pdf.is_file():
        return pdf
    command = soffice()
    if command is None or failed.is_file():
        return None
    with _renditions_lock:
        lock = _renditions.setdefault(sha256, threading.Lock())
    with lock:  # a second request for the same file waits for the first conversion
        if pdf.is_file():
            return pdf
        folder.mkdir(parents=True, exist_ok=True)
        error = _convert(command, docx, pdf)
        if not docx.is_file():  # erased while LibreOffice worked: leave nothing of it behind
            shutil.rmtree(folder, ignore_errors=True)
            return None
        if error and _stopping.is_set():
            return None
        if error:
            log.warning("LibreOffice could not convert %s: %s", sha256[:12], error)
            failed.write_text(error[-2000:], encoding="utf-8")
            return None
    return pdf


def prepare_rendition(settings: Settings, sha256: str, docx: Path) -> None:
    """Start making the DOCX's rendition in the background (nothing when it exists or cannot be made)."""
    folder = page_cache_dir(settings, sha256)
    if soffice() is None or (folder / RENDITION).is_file() or (folder / RENDITION_FAILED).is_file():
        return
    with _renditions_lock:
        busy = sha256 in _renditions and _renditions[sha256].locked()
    if busy:  # already being made (the review page opened again meanwhile)
        return
    threading.Thread(target=docx_rendition, args=(settings, sha256, docx), daemon=True, name="rendition").start()


def _convert(command: str, docx: Path, pdf: Path) -> str:
    """Convert with a profile of its own (two conversions at once would share one otherwise); the
    file is copied under a fixed name first. Returns '' on success, else what went wrong."""
    # a conversion still running when the process exits (a daemon thread) may write into its profile
    # while the folder is removed: that cleanup may fail without a traceback at exit
    with tempfile.TemporaryDirectory(prefix="dr-soffice-", ignore_cleanup_errors=True) as tmp:
        source = Path(tmp) / "dossier.docx"
        shutil.copyfile(docx, source)
        profile = (Path(tmp) / "profile").as_uri()
        args = [command, f"-env:UserInstallation={profile}", "--headless", "--norestore", "--nolockcheck"]
        proc = subprocess.Popen(
            [*args, "--convert-to", "pdf", "--outdir", tmp, str(source)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        _converting.add(proc)
        try:
            _, stderr = proc.communicate(timeout=SOFFICE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _stop(proc)
            proc.communicate()
            return f"no answer after {SOFFICE_TIMEOUT_S} s"
        finally:
            _converting.discard(proc)
        made = Path(tmp) / "dossier.pdf"
        if proc.returncode != 0 or not made.is_file():
            return f"exit {proc.returncode}: {stderr.decode('utf-8', 'replace')[-500:]}"
        tmp_pdf = pdf.with_suffix(".tmp")
        shutil.copyfile(made, tmp_pdf)
        tmp_pdf.replace(pdf)
    return ""


def _open(pdf: Path) -> pdfium.PdfDocument | None:
    """The stored PDF, or None when it cannot be opened without its password (never stored)."""
    try:
        return pdfium.PdfDocument(str(pdf))
    except pdfium.PdfiumError:
        return None


def page_png(settings: Settings, sha256: str, pdf: Path, page: int) -> bytes | None:
    """PNG of page `page` (1-based), rendered once and cached; None when the page does not exist."""
    if not 1 <= page <= MAX_PAGES:
        return None
    cached = page_cache_dir(settings, sha256) / f"{page}.png"
    if cached.is_file():
        return cached.read_bytes()
    with _lock:
        doc = _open(pdf)
        if doc is None:
            return None
        try:
            if page > len(doc):
                return None
            bitmap = doc[page - 1].render(scale=SCALE)
            buf = io.BytesIO()
            bitmap.to_pil().save(buf, "PNG", optimize=False)
        finally:
            doc.close()
    data = buf.getvalue()
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(cached)
    return data


def _fold(text: str) -> tuple[str, list[int]]:
    """Text without whitespace, case-folded, with the index of each kept character in `text`."""
    out, where = [], []
    for i, ch in enumerate(text):
        if ch.isspace() or ch in "\u00ad\u200b\ufffe\uffff":
            continue
        ch = {"’": "'", "‘": "'", "«": '"', "»": '"', "–": "-", "—": "-"}.get(ch, ch)
        out.append(ch.casefold())
        where.append(i)
    return "".join(out), where


def locate_quote(
    pdf: Path, quote: str, hint: int | None = None, only_there: bool = False
) -> tuple[int | None, list[Box]]:
    """The page (1-based) holding `quote` and its boxes there: page `hint` first, then the others in
    order (a DOCX's rendition paginates its own way); (None, []) when no page has it."""
    wanted, _ = _fold(quote)
    if not wanted:
        return None, []
    with _lock:
        doc = _open(pdf)
        if doc is None:
            return None, []
        try:
            count = min(len(doc), MAX_PAGES)
            first = [hint] if hint is not None and 1 <= hint <= count else []
            order = first if only_there else first + [p for p in range(1, count + 1) if p != hint]
            for page in order:
                boxes = _boxes_on(doc[page - 1], wanted)
                if boxes:
                    return page, boxes
        finally:
            doc.close()
    return None, []


def _boxes_on(pg: pdfium.PdfPage, wanted: str) -> list[Box]:
    """The boxes of the folded text `wanted` on the page: the whole of it, else its first 60 characters."""
    width, height = pg.get_size()
    tp = pg.get_textpage()
    count = tp.count_chars()
    text = tp.get_text_range(0, count) if count else ""
    folded, where = _fold(text)
    for probe in (wanted, wanted[:60]):
        i = folded.find(probe)
        if i >= 0:
            first, last = where[i], where[i + len(probe) - 1]
            n = tp.count_rects(first, last - first + 1)
            rects = [tp.get_rect(k) for k in range(n)]
            break
    else:
        return []
    boxes = []
    for left, bottom, right, top in rects:
        x, y = max(0.0, left / width), max(0.0, (height - top) / height)
        boxes.append(
            Box(
                x=min(x, 1.0),
                y=min(y, 1.0),
                w=min(1.0 - x, (right - left) / width),
                h=min(1.0 - y, (top - bottom) / height),
            )
        )
    return boxes
