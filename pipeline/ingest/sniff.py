"""Decide what a file really is from its bytes, whatever its extension says."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Literal

from pipeline.errors import EmptyFileError, EncryptedError, TooLargeError, UnsupportedFormatError

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMAGES = {
    b"\x89PNG": "une image PNG",
    b"\xff\xd8\xff": "une image JPEG",
    b"GIF8": "une image GIF",
    b"II*\x00": "une image TIFF",
    b"MM\x00*": "une image TIFF",
}
_REDO = "Exportez le dossier en PDF ou en DOCX depuis votre traitement de texte, puis déposez ce fichier."


def sniff(path: Path, data: bytes, max_unzipped_bytes: int) -> Literal["pdf", "docx"]:
    """Return the format, or raise an IngestError that says what the file is and what to do."""
    name = path.name
    if not data:
        raise EmptyFileError(f"{name}: empty file", f"Le fichier « {name} » est vide (0 octet). {_REDO}")
    if data[:1024].find(b"%PDF-") != -1:
        return "pdf"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _sniff_zip(name, data, max_unzipped_bytes)
    if data.startswith(_OLE):
        if b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k\x00a\x00g\x00e" in data:
            raise EncryptedError(
                f"{name}: password-protected Office document",
                f"Le fichier « {name} » est un document Word protégé par mot de passe. Ouvrez-le dans Word, "
                "retirez la protection (Fichier > Informations > Protéger le document) ou exportez-le en PDF, "
                "puis déposez-le à nouveau.",
            )
        raise UnsupportedFormatError(
            f"{name}: legacy OLE document (.doc/.xls/.ppt)",
            f"Le fichier « {name} » est un ancien document Office (.doc) et non un DOCX ou un PDF. "
            "Ouvrez-le et enregistrez-le au format .docx ou exportez-le en PDF.",
        )
    for magic, what in _IMAGES.items():
        if data.startswith(magic):
            raise UnsupportedFormatError(
                f"{name}: image file",
                f"Le fichier « {name} » est {what}, pas un document. Déposez le dossier en PDF ou DOCX ; "
                "s’il s’agit d’un scan, faites-le passer par une reconnaissance de caractères (OCR) avant.",
            )
    if len(data) < 1024 and (name.startswith("~$") or _looks_like_lock_file(data)):
        raise UnsupportedFormatError(
            f"{name}: Word lock file",
            f"« {name} » est un fichier de verrouillage temporaire créé par Word, pas le dossier. "
            "Déposez le document lui-même (le nom sans « ~$ »).",
        )
    raise UnsupportedFormatError(
        f"{name}: neither PDF nor DOCX (first bytes {data[:8]!r})",
        f"Le fichier « {name} » n’est ni un PDF ni un DOCX lisible. {_REDO}",
    )


def _looks_like_lock_file(data: bytes) -> bool:
    # Word's owner file: one length byte, the user name, padding; 162 bytes in practice.
    return len(data) == 162 and 0 < data[0] < 60


def _sniff_zip(name: str, data: bytes, max_unzipped_bytes: int) -> Literal["docx"]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            total = sum(i.file_size for i in infos)
            mimetype = zf.read("mimetype")[:100].decode("ascii", "replace") if "mimetype" in names else ""
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise UnsupportedFormatError(
            f"{name}: damaged zip container: {e}",
            f"Le fichier « {name} » est une archive endommagée : il ne peut pas être lu comme un DOCX. {_REDO}",
        ) from e
    if total > max_unzipped_bytes:
        raise TooLargeError(
            f"{name}: decompressed size {total} exceeds {max_unzipped_bytes} bytes (zip bomb guard)",
            f"Le fichier « {name} » occuperait {total // 1_000_000} Mo une fois décompressé, au-delà de la "
            f"limite de {max_unzipped_bytes // 1_000_000} Mo. Retirez les images lourdes ou exportez en PDF.",
        )
    if "word/document.xml" in names and "[Content_Types].xml" in names:
        return "docx"
    if mimetype.startswith("application/vnd.oasis.opendocument"):
        raise UnsupportedFormatError(
            f"{name}: OpenDocument file ({mimetype})",
            f"Le fichier « {name} » est au format OpenDocument (LibreOffice). Enregistrez-le en .docx "
            "(Fichier > Enregistrer sous > Word) ou exportez-le en PDF.",
        )
    if any(n.startswith(("xl/", "ppt/")) for n in names):
        raise UnsupportedFormatError(
            f"{name}: Excel or PowerPoint file",
            f"Le fichier « {name} » est un classeur ou une présentation Office. Exportez-le en PDF.",
        )
    raise UnsupportedFormatError(f"{name}: zip archive that is not a DOCX", f"« {name} » n’est pas un DOCX. {_REDO}")
