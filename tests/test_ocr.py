"""Optional OCR of scanned PDFs (ocrmypdf + tesseract-ocr-fra from Debian, installed by scripts/test.sh)."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import pytest

from pipeline.errors import NoTextLayerError
from pipeline.ingest import ingest
from pipeline.settings import Settings
from pipeline.textnorm import words

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "m2_hotel_moyen" / "m2_hotel_moyen.pdf"
pytestmark = pytest.mark.skipif(
    not (shutil.which("ocrmypdf") and shutil.which("pdftoppm")), reason="ocrmypdf or pdftoppm not installed"
)


def _scan(tmp_path: Path) -> tuple[Path, str]:
    """An image-only PDF of page 5 of a sample (what a scanner produces), and that page's real text."""
    subprocess.run(
        ["pdftoppm", "-r", "150", "-f", "5", "-l", "5", "-png", str(SAMPLE), str(tmp_path / "p")],
        check=True,
        timeout=120,
    )
    image = mpimg.imread(next(tmp_path.glob("p*.png")))
    plt.switch_backend("Agg")
    fig = plt.figure(figsize=(8.27, 11.69))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(image)
    ax.axis("off")
    scan = tmp_path / "scan.pdf"
    fig.savefig(scan, dpi=150)
    plt.close(fig)
    full = ingest(SAMPLE, Settings(data_dir=tmp_path / "ref"))
    return scan, " ".join(b.text for b in full.blocks if b.page == 5)


def test_scanned_pdf_is_refused_without_ocr_and_read_with_it(tmp_path: Path) -> None:
    scan, truth = _scan(tmp_path)
    with pytest.raises(NoTextLayerError) as e:
        ingest(scan, Settings(data_dir=tmp_path / "a"))
    assert "OCR" in e.value.user_message
    dossier = ingest(scan, Settings(data_dir=tmp_path / "b", ocr=True))
    assert dossier.findings[0].kind == "ocr"
    got, want = Counter(words(dossier.text)), Counter(words(truth))
    recovered = sum((got & want).values()) / sum(want.values())
    assert recovered > 0.85, recovered
    assert not any(f.kind == "hidden_text" for f in dossier.findings)  # the OCR layer is content
