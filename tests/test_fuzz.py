"""Fuzzing ingestion: a mutated real dossier (bytes flipped, overwritten, inserted, file cut)
either parses or raises a ReviewError subclass, never any other exception.

Uses one committed sample PDF and one DOCX (samples/*/); skipped when there are none.
The DOCX is fuzzed three ways: as raw bytes (mostly breaks the zip), as the bytes of one
part re-zipped (mostly breaks the XML), and by structural edits that keep the XML
well-formed (so the body walker meets the damage).
"""

from __future__ import annotations

import copy
import io
import zipfile
from pathlib import Path

import pytest
from lxml import etree

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from pipeline.errors import ReviewError  # noqa: E402
from pipeline.ingest import ingest  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.types import Dossier  # noqa: E402

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


def smallest(samples_dir: Path, pattern: str) -> Path:
    found = sorted(samples_dir.glob(pattern), key=lambda p: (p.stat().st_size, p.name))
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
def pdf_sample(samples_dir: Path) -> bytes:
    return smallest(samples_dir, "*/*.pdf").read_bytes()


@pytest.fixture(scope="module")
def docx_sample(samples_dir: Path) -> bytes:
    return smallest(samples_dir, "*/*.docx").read_bytes()


@pytest.mark.slow  # about 0.4 s an example on a 10-page dossier
@FUZZ
@given(ops=MUTATIONS)
def test_mutated_pdf(
    ops: list[tuple[str, float, bytes]], pdf_sample: bytes, fuzz_settings: Settings, tmp_path: Path
) -> None:
    ingest_or_review_error(tmp_path / "dossier.pdf", mutate(pdf_sample, ops), fuzz_settings)


@FUZZ
@given(ops=MUTATIONS)
def test_mutated_docx_bytes(
    ops: list[tuple[str, float, bytes]], docx_sample: bytes, fuzz_settings: Settings, tmp_path: Path
) -> None:
    ingest_or_review_error(tmp_path / "dossier.docx", mutate(docx_sample, ops), fuzz_settings)


def rezip_with(docx_bytes: bytes, member: str, new: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx_bytes)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, new if info.filename == member else src.read(info.filename))
    return out.getvalue()


@FUZZ
@given(ops=MUTATIONS, member=st.sampled_from(["word/document.xml", "word/styles.xml", "word/_rels/document.xml.rels"]))
def test_mutated_docx_part_bytes(
    ops: list[tuple[str, float, bytes]], member: str, docx_sample: bytes, fuzz_settings: Settings, tmp_path: Path
) -> None:
    with zipfile.ZipFile(io.BytesIO(docx_sample)) as zf:
        if member not in zf.namelist():
            return
        original = zf.read(member)
    data = rezip_with(docx_sample, member, mutate(original, ops))
    ingest_or_review_error(tmp_path / "dossier.docx", data, fuzz_settings)


# Structural mutations keep the XML well-formed, so python-docx opens the package and the
# body walker meets the damage: elements deleted, duplicated or moved, odd attribute values.
ODD_VALUES = ["", "-1", "0", "99999999999", "abc", "FFFFFF", "auto", "true", "off", "9", "1e9", "\u200b", "ﬁ"]
XML_OP = st.tuples(
    st.sampled_from(["delete", "duplicate", "move", "set-attribute", "drop-attribute", "set-text"]),
    st.floats(0, 1),
    st.floats(0, 1),
    st.sampled_from(ODD_VALUES),
)


def mutate_xml(xml: bytes, ops: list[tuple[str, float, float, str]]) -> bytes:
    root = etree.fromstring(xml)
    for op, where, other, value in ops:
        nodes = [n for n in root.iter() if isinstance(n.tag, str)][1:]
        if not nodes:
            break
        node = nodes[min(int(where * len(nodes)), len(nodes) - 1)]
        parent = node.getparent()
        if op == "delete":
            parent.remove(node)
        elif op == "duplicate":
            parent.insert(parent.index(node), copy.deepcopy(node))
        elif op == "move":
            target = nodes[min(int(other * len(nodes)), len(nodes) - 1)]
            if target is not node and node not in target.iterancestors():
                target.append(node)
        elif op == "set-attribute" and node.attrib:
            keys = sorted(node.attrib)
            node.set(keys[min(int(other * len(keys)), len(keys) - 1)], value)
        elif op == "drop-attribute" and node.attrib:
            keys = sorted(node.attrib)
            del node.attrib[keys[min(int(other * len(keys)), len(keys) - 1)]]
        elif op == "set-text":
            node.text = value
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


@pytest.mark.slow  # about 0.1 s an example
@FUZZ
@given(
    ops=st.lists(XML_OP, min_size=1, max_size=8),
    member=st.sampled_from(["word/document.xml", "word/styles.xml", "word/numbering.xml"]),
)
def test_structurally_mutated_docx(
    ops: list[tuple[str, float, float, str]], member: str, docx_sample: bytes, fuzz_settings: Settings, tmp_path: Path
) -> None:
    with zipfile.ZipFile(io.BytesIO(docx_sample)) as zf:
        if member not in zf.namelist():
            return
        original = zf.read(member)
    data = rezip_with(docx_sample, member, mutate_xml(original, ops))
    ingest_or_review_error(tmp_path / "dossier.docx", data, fuzz_settings)
