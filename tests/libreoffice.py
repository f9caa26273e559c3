"""LibreOffice for tests: a document converted to PDF as a reader's LibreOffice would."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path


def to_pdf(path: Path, out_dir: Path) -> Path:
    """`path` as PDF in `out_dir`, with a private profile (other LibreOffice instances may be running)."""
    profile = out_dir / "lo-profile"
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out_dir),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return out_dir / (path.stem + ".pdf")


def pdf_pages(pdf: Path) -> int:
    """The page count poppler's pdfinfo reads in `pdf`."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    m = re.search(r"^Pages:\s+(\d+)", info, re.M)
    if m is None:
        raise ValueError(f"pdfinfo gave no page count for {pdf}")
    return int(m.group(1))
