"""Fuzzing ingestion: a mutated real dossier (bytes flipped, overwritten, inserted, file cut)
either parses or raises a ReviewError subclass, never any other exception.

Uses one committed sample PDF and one DOCX (samples/*/); skipped when there are none.
The DOCX is fuzzed twice: as raw bytes (mostly breaks the zip) and inside its
word/document.xml (re-zipped, so the XML walker sees the damage).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from pipeline.errors import ReviewError  # noqa: E402
from pipeline.ingest import ingest  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.types import Dossier  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# (operation, where as a fraction of the length, payload)
MUTATION = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(1, 255).map(lambda b: bytes([b]))),
    st.tuples(st.just("overwrite"), st.floats(0, 1), st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("delete"), st.floats(0, 1), st.integers(1, 256).map(lambda n: bytes(n))),
    st.tuples(st.just("truncate"), st.floats(0, 1), st.just(b"")),
)
MUTATIONS = st.lists(MUTATION, min_size=1, max_size=6)


def mutate(data: bytes, ops: list[tuple[str, float, bytes]]) -> bytes:
    buf = bytearray(data)
    for op, where, payload in ops:
        at = min(int(where * len(buf)), max(len(buf) - 1, 0))
        if op == "flip" and buf:
            buf[at] ^= payload[0]
        elif op == "overwrite":
            buf[at : at + len(payload)] = payload
        elif op == "insert":
            buf[at:at] = payload
        elif op == "delete":
            del buf[at : at + len(payload)]
        elif op == "truncate":
            del buf[at:]
    return bytes(buf)


def smallest(pattern: str) -> Path:
    found = sorted(SAMPLES.glob(pattern), key=lambda p: (p.stat().st_size, p.name))
    if not found:
        pytest.skip(f"no sample matching samples/{pattern}")
    return found[0]


def ingest_or_review_error(path: Path, data: bytes, settings_: Settings) -> None:
    path.write_bytes(data)
    try:
        result = ingest(path, settings_)
    except ReviewError as e:
        assert e.user_message, f"{type(e).__name__} without a message"
        return
    assert isinstance(result, Dossier)
    for b in result.blocks:
        assert result.text[b.start : b.end] == b.text


@pytest.fixture(scope="module")
def fuzz_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def pdf_sample() -> bytes:
    return smallest("*/*.pdf").read_bytes()


@pytest.fixture(scope="module")
def docx_sample() -> bytes:
    return smallest("*/*.docx").read_bytes()


@pytest.mark.slow  # about 0.4 s an example on a 10-page dossier
@FUZZ
@given(ops=MUTATIONS)
def test_mutated_pdf(ops: list[tuple[str, float, bytes]], pdf_sample: bytes, fuzz_settings: Settings,
                     tmp_path: Path) -> None:
    ingest_or_review_error(tmp_path / "dossier.pdf", mutate(pdf_sample, ops), fuzz_settings)


@FUZZ
@given(ops=MUTATIONS)
def test_mutated_docx_bytes(ops: list[tuple[str, float, bytes]], docx_sample: bytes, fuzz_settings: Settings,
                            tmp_path: Path) -> None:
    ingest_or_review_error(tmp_path / "dossier.docx", mutate(docx_sample, ops), fuzz_settings)


def rezip_with(docx_bytes: bytes, member: str, new: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx_bytes)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, new if info.filename == member else src.read(info.filename))
    return out.getvalue()


@FUZZ
@given(ops=MUTATIONS, member=st.sampled_from(["word/document.xml", "word/styles.xml", "word/_rels/document.xml.rels"]))
def test_mutated_docx_parts(ops: list[tuple[str, float, bytes]], member: str, docx_sample: bytes,
                            fuzz_settings: Settings, tmp_path: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(docx_sample)) as zf:
        if member not in zf.namelist():
            return
        original = zf.read(member)
    data = rezip_with(docx_sample, member, mutate(original, ops))
    ingest_or_review_error(tmp_path / "dossier.docx", data, fuzz_settings)
