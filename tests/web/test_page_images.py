"""Page images of a dossier: rendered once and cached under the file's hash, a quote found on its
page as boxes, the cache erased with the file; a DOCX through its LibreOffice rendition."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.erasure import _erase_caches
from pipeline.web import pages_img
from pipeline.web.pages_img import docx_rendition, locate_quote, page_cache_dir, page_png, soffice
from tests.web.helpers import SAMPLES, web_settings

PDF = SAMPLES / "m2_injection_velo" / "m2_injection_velo.pdf"
QUOTE = (
    "Ce plan d’actions décline la stratégie de Veloxia en cinq projets concrets, avec un budget de "
    "1,23 M€ sur deux ans et un objectif de 22 M€ de chiffre d’affaires en 2026"
)


def test_page_rendered_once_cached_and_erased_with_the_file(tmp_path: Path) -> None:
    settings = web_settings(tmp_path)
    sha = hashlib.sha256(PDF.read_bytes()).hexdigest()
    png = page_png(settings, sha, PDF, 10)
    assert png and png.startswith(b"\x89PNG")
    cached = page_cache_dir(settings, sha) / "10.png"
    assert cached.read_bytes() == png
    assert page_png(settings, sha, PDF, 999) is None and page_png(settings, sha, PDF, 0) is None
    _erase_caches(settings, sha)
    assert not page_cache_dir(settings, sha).exists()


def test_quote_found_on_its_page_across_lines() -> None:
    page, boxes = locate_quote(PDF, QUOTE, 10, only_there=True)
    assert page == 10 and len(boxes) == 2  # the quote wraps onto a second line
    first = boxes[0]
    assert 0.05 < first.x < 0.2 and 0.4 < first.y < 0.7 and first.w > 0.5 and 0 < first.h < 0.03
    assert locate_quote(PDF, "une phrase absente du dossier", 10) == (None, [])
    assert locate_quote(PDF, QUOTE, 3, only_there=True) == (None, [])  # not on that page
    assert locate_quote(PDF, QUOTE, 3)[0] == 10  # looked for on the other pages
    assert locate_quote(PDF, QUOTE)[0] == 10


DOCX = SAMPLES / "m2_hotel_moyen" / "m2_hotel_moyen.docx"
DOCX_QUOTE = "Le budget nous paraît suffisant pour atteindre les objectifs fixés"


@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_docx_rendition_made_once_quotes_found_and_erased(tmp_path: Path) -> None:
    settings = web_settings(tmp_path)
    sha = hashlib.sha256(DOCX.read_bytes()).hexdigest()
    pdf = docx_rendition(settings, sha, DOCX)
    assert pdf is not None and pdf.parent == page_cache_dir(settings, sha) and pdf.read_bytes().startswith(b"%PDF")
    made = pdf.stat().st_mtime_ns
    assert docx_rendition(settings, sha, DOCX) == pdf and pdf.stat().st_mtime_ns == made  # cached
    page, boxes = locate_quote(pdf, DOCX_QUOTE, hint=1)  # Word's page may not be LibreOffice's
    assert page is not None and page > 1 and boxes
    assert (page_png(settings, sha, pdf, page) or b"").startswith(b"\x89PNG")
    _erase_caches(settings, sha)
    assert not page_cache_dir(settings, sha).exists()


def test_docx_without_libreoffice_or_a_failed_conversion_has_no_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = web_settings(tmp_path)
    sha = hashlib.sha256(DOCX.read_bytes()).hexdigest()
    monkeypatch.setattr(pages_img, "soffice", lambda: None)
    assert docx_rendition(settings, sha, DOCX) is None
    broken = tmp_path / "soffice"
    broken.write_text("#!/bin/sh\necho 'cannot convert' >&2\nexit 3\n")
    broken.chmod(0o755)
    monkeypatch.setattr(pages_img, "soffice", lambda: str(broken))
    assert docx_rendition(settings, sha, DOCX) is None
    failed = page_cache_dir(settings, sha) / pages_img.RENDITION_FAILED
    assert "cannot convert" in failed.read_text()  # not tried again for this file
    assert docx_rendition(settings, sha, DOCX) is None


_EXITING_SERVER = """
import sys, time
from pathlib import Path
from pipeline.settings import Settings
from pipeline.web import pages_img

fake, docx, data, started = sys.argv[1:5]
pages_img.soffice = lambda: fake
pages_img.prepare_rendition(Settings(data_dir=Path(data)), "0" * 64, Path(docx))
while not Path(started).exists():
    time.sleep(0.05)
if len(sys.argv) > 5:  # a server stopping on a signal: its exit handlers run while the thread still works
    import threading
    pages_img._stop_conversions()
    for t in threading.enumerate():
        if t.name == "rendition":
            t.join(timeout=30)
"""  # the conversion runs in a daemon thread; the process then ends, as a stopped server does


def test_a_conversion_running_when_the_server_stops_leaves_no_process(tmp_path: Path) -> None:
    """LibreOffice started for a page rendition is stopped with the server, with what it started
    (`soffice` runs `soffice.bin`): nothing is left running as an orphan."""
    started, pid_file = tmp_path / "started", tmp_path / "child.pid"
    fake = tmp_path / "soffice"
    # a launcher that starts a long-lived worker, as soffice starts soffice.bin, and waits for it
    fake.write_text(f"#!/bin/sh\nsleep 300 &\necho $! > {pid_file}\ntouch {started}\nwait\n")
    fake.chmod(0o755)
    for how in ("exit", "exit handlers first"):
        started.unlink(missing_ok=True)
        args = [str(fake), str(DOCX), str(tmp_path / "data"), str(started)] + (["stop"] if how != "exit" else [])
        done = subprocess.run(
            [sys.executable, "-c", _EXITING_SERVER, *args], capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr[-2000:]
        child = int(pid_file.read_text())
        deadline = time.monotonic() + 10
        while _running(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _running(child), f"{how}: the conversion's worker outlived the server"
        # stopped, not failed: the next start converts the file again
        assert not list((tmp_path / "data").rglob(pages_img.RENDITION_FAILED)), how
        assert "could not convert" not in done.stderr, how


def _running(pid: int) -> bool:
    """Alive and not a zombie (a killed orphan waits for init to reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"
