"""Ingestion: a file's bytes → a `Dossier` (blocks with page, section path and span; findings)."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from pipeline.errors import (
    DamagedFileError,
    EmptyFileError,
    IngestError,
    NoTextLayerError,
    ReviewError,
    TooLargeError,
)
from pipeline.ingest.raw import TOC_TITLE, RawBlock, RawDoc
from pipeline.ingest.sniff import sniff
from pipeline.settings import Settings
from pipeline.types import Block, Dossier, Finding

log = logging.getLogger(__name__)

_SEP = "\n\n"


def _code_version() -> str:
    """Hash of the code that turns bytes into a Dossier: a cached parse is reused only by the same code."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for f in [*sorted(here.glob("*.py")), here.parent / "textnorm.py", here.parent / "manipulation.py"]:
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


_CODE_VERSION = _code_version()


def parsed_cache_file(cache_dir: Path, sha256: str, tag: str) -> Path:
    """A file kept beside a dossier's parse, named by the file's hash: erasure removes it with the
    parse (`parsed_cache_files`)."""
    return cache_dir / "parsed" / f"{sha256}-{tag}.json"


def parsed_cache_files(settings: Settings, sha256: str) -> list[Path]:
    return sorted((settings.cache_dir / "parsed").glob(f"{sha256}-*.json"))


def write_cache(path: Path, text: str) -> None:
    """Write a cache file whole or not at all; a read-only data dir only costs speed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as e:
        log.info("cache %s not written: %s", path.name, e)


def ingest(path: Path, settings: Settings, password: str | None = None) -> Dossier:
    """Read, sniff, parse, assemble, then record language and manipulation findings.

    A successful parse is cached under the data dir by file hash and code version, so a
    second review of the same file skips parsing (erasure removes the cached copy).
    """
    data = _read_bounded(path, settings.max_file_bytes)
    fmt = sniff(path, data, settings.max_unzipped_bytes)
    sha = hashlib.sha256(data).hexdigest()
    cache = parsed_cache_file(settings.cache_dir, sha, _CODE_VERSION)
    if cache.exists():
        try:
            cached = Dossier.model_validate_json(cache.read_bytes())
            if len(cached.text) <= settings.max_chars and (cached.pages or 0) <= settings.max_pages:
                return cached.model_copy(update={"file": path.name})
        except ValueError:
            log.info("ignoring unreadable parse cache %s", cache.name)
    try:
        dossier = _parse(path, data, fmt, sha, settings, password)
    except NoTextLayerError:
        if not (settings.ocr and fmt == "pdf"):
            raise
        from pipeline.ingest.ocr import ocr_pdf

        dossier = _parse(path, ocr_pdf(data, path.name), fmt, sha, settings, password)
        dossier.findings.insert(
            0,
            Finding(
                kind="ocr",
                text="texte obtenu par reconnaissance de caractères (OCR)",
                detail="Le PDF n’avait pas de couche texte : son texte a été reconnu automatiquement et peut "
                "contenir des erreurs ; vérifiez les citations sur le document.",
            ),
        )
    write_cache(cache, dossier.model_dump_json())
    return dossier


def _parse(path: Path, data: bytes, fmt: str, sha: str, settings: Settings, password: str | None) -> Dossier:
    # the parsers (PDFium, pypdf, lxml, langid) load only on a cache miss: a warm review does without
    from pipeline.ingest.docx import DocxLimits, parse_docx
    from pipeline.ingest.language import detect_language
    from pipeline.ingest.pdf import parse_pdf
    from pipeline.manipulation import detect_manipulation

    try:
        raw = (
            parse_pdf(path, data, password, settings.max_pages, settings.max_chars)
            if fmt == "pdf"
            else parse_docx(
                path, data, DocxLimits(settings.max_paragraphs, settings.max_xml_elements, settings.max_chars)
            )
        )
    except ReviewError:
        raise
    except Exception as e:  # hostile input must fail closed with a message, never a traceback
        log.warning("parser failure on %s: %s: %s", path.name, type(e).__name__, e)
        raise DamagedFileError(
            f"{path.name}: parser failure {type(e).__name__}: {e}",
            f"Le fichier « {path.name} » n’a pas pu être lu (structure inattendue ou endommagée). "
            "Exportez-le à nouveau depuis le logiciel d’origine, en PDF ou en DOCX, puis redéposez-le.",
        ) from e
    dossier = assemble(raw, path, fmt, sha)
    if not dossier.blocks:
        raise EmptyFileError(
            f"{path.name}: no text in the document",
            f"Le fichier « {path.name} » ne contient aucun texte lisible (images seulement ?). Déposez le "
            "dossier rédigé, exporté depuis le traitement de texte.",
        )
    if len(dossier.text) > settings.max_chars:
        raise TooLargeError(
            f"{path.name}: {len(dossier.text)} characters exceeds {settings.max_chars}",
            f"Le dossier « {path.name} » contient {len(dossier.text)} caractères, au-delà de la limite de "
            f"{settings.max_chars}. Déposez-le sans ses annexes.",
        )
    dossier.findings.extend(detect_language(dossier))
    dossier.findings.extend(detect_manipulation(dossier))
    return dossier


def _mo(n: int) -> str:
    """Megabytes with a French decimal comma."""
    return f"{n / 1e6:.1f}".replace(".", ",")


def _read_bounded(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise TooLargeError(
                f"{path.name}: {size} bytes exceeds {max_bytes}",
                f"Le fichier « {path.name} » pèse {_mo(size)} Mo, au-delà de la limite de {_mo(max_bytes)} Mo. "
                "Compressez les images ou retirez les annexes volumineuses.",
            )
        with path.open("rb") as fh:
            return fh.read(max_bytes + 1)
    except IsADirectoryError as e:
        raise IngestError(f"{path}: is a directory", f"« {path} » est un dossier, pas un fichier.") from e
    except FileNotFoundError as e:
        raise IngestError(f"{path}: not found", f"Fichier introuvable : « {path} ». Vérifiez le chemin.") from e
    except PermissionError as e:
        raise IngestError(f"{path}: permission denied", f"Lecture interdite : « {path} ».") from e


def _drop_empty_toc_headings(blocks: list[RawBlock]) -> list[RawBlock]:
    """A 'Sommaire' heading left without its entries (they are dropped as page furniture) is no section."""
    out = []
    for i, b in enumerate(blocks):
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if b.kind == "heading" and TOC_TITLE.match(b.text) and (nxt is None or nxt.kind == "heading"):
            continue
        out.append(b)
    return out


def assemble(raw: RawDoc, path: Path, fmt: str, sha256: str) -> Dossier:
    """Give every block its section path and its span in the full text; place findings."""
    raw.blocks = _drop_empty_toc_headings(raw.blocks)
    blocks: list[Block] = []
    stack: list[tuple[int, str]] = []
    offset = 0
    parts: list[str] = []
    index_map: dict[int, int] = {}
    for i, rb in enumerate(raw.blocks):
        if rb.kind == "heading":
            level = rb.level or 1
            while stack and stack[-1][0] >= level:
                stack.pop()
            section = [t for _, t in stack]
            stack.append((level, rb.text))
        else:
            section = [t for _, t in stack]
        if rb.section_override is not None:
            section = rb.section_override
        if parts:
            offset += len(_SEP)
        start, end = offset, offset + len(rb.text)
        parts.append(rb.text)
        offset = end
        index_map[i] = len(blocks)
        blocks.append(
            Block(
                kind=rb.kind,
                text=rb.text,
                page=rb.page,
                section=section,
                level=rb.level,
                rows=rb.rows,
                start=start,
                end=end,
                page_breaks=[start + o for o in rb.breaks],
            )
        )
    findings: list[Finding] = []
    for f in raw.findings:
        where: list[str] = []
        if f.block_index is not None and blocks:
            near = blocks[min(index_map.get(f.block_index, len(blocks) - 1), len(blocks) - 1)]
            where = near.section + ([near.text] if near.kind == "heading" else [])
        findings.append(Finding(kind=f.kind, text=f.text, page=f.page, section=where, detail=f.detail))
    return Dossier(
        file=path.name,
        format="pdf" if fmt == "pdf" else "docx",
        sha256=sha256,
        pages=raw.pages,
        text=_SEP.join(parts),
        blocks=blocks,
        findings=findings,
    )
