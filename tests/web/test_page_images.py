"""Page images of a PDF dossier: rendered once and cached under the file's hash, a quote found on
the page as boxes, the cache erased with the file."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipeline.erasure import _erase_caches
from pipeline.web.pages_img import page_cache_dir, page_png, quote_boxes
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
    boxes = quote_boxes(PDF, 10, QUOTE)
    assert len(boxes) == 2  # the quote wraps onto a second line
    first = boxes[0]
    assert 0.05 < first.x < 0.2 and 0.4 < first.y < 0.7 and first.w > 0.5 and 0 < first.h < 0.03
    assert quote_boxes(PDF, 10, "une phrase absente de la page") == []
    assert quote_boxes(PDF, 3, QUOTE) == []  # not on that page
