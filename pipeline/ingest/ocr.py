"""Optional OCR for scanned PDFs, through the `ocrmypdf` program (Debian: ocrmypdf, tesseract-ocr-fra).

Off by default (`DOSSIER_REVIEW_OCR=true` or `--ocr`): OCR text is less reliable than a text
layer, so a dossier read this way carries an `ocr` finding that every output shows.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from pipeline.errors import NoTextLayerError

log = logging.getLogger(__name__)


def ocr_available() -> bool:
    return shutil.which("ocrmypdf") is not None


def ocr_pdf(data: bytes, name: str, language: str = "fra", timeout_s: float = 600.0) -> bytes:
    """Return the PDF with an OCR text layer added, or raise NoTextLayerError saying why not."""
    if not ocr_available():
        raise NoTextLayerError(
            f"{name}: OCR requested but ocrmypdf is not installed",
            f"Le PDF « {name} » n’a pas de texte et la reconnaissance de caractères n’est pas installée sur ce "
            "poste (paquets Debian ocrmypdf et tesseract-ocr-fra). Installez-les ou exportez le dossier depuis "
            "le traitement de texte.",
        )
    with tempfile.TemporaryDirectory(prefix="dr-ocr-") as tmp:
        src, dst = Path(tmp) / "in.pdf", Path(tmp) / "out.pdf"
        src.write_bytes(data)
        cmd = ["ocrmypdf", "-l", language, "--skip-text", "--output-type", "pdf", "--quiet", str(src), str(dst)]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired as e:
            raise NoTextLayerError(
                f"{name}: OCR timed out after {timeout_s:.0f} s",
                f"La reconnaissance de caractères du PDF « {name} » a dépassé le temps imparti. Déposez une "
                "version exportée depuis le traitement de texte.",
            ) from e
        if done.returncode != 0 or not dst.exists():
            log.warning("ocrmypdf failed on %s: %s", name, done.stderr[-500:])
            raise NoTextLayerError(
                f"{name}: ocrmypdf failed (exit {done.returncode})",
                f"La reconnaissance de caractères n’a pas pu lire le PDF « {name} ». Déposez une version "
                "exportée depuis le traitement de texte, ou un scan plus net.",
            )
        return dst.read_bytes()
