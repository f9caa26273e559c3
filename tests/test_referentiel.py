"""The referentiel data (`referentiel/*.yaml`) against the official text and the id contract.

- every transcribed text is verbatim: found in the source after collapsing whitespace only;
- ids and counts follow `shared/criteria-ids.md` (parsed when present, skipped otherwise);
- a broken referentiel raises ReferentielError naming the file and the entry.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.errors import ReferentielError
from pipeline.referentiel import Referentiel, load_referentiel

ROOT = Path(__file__).resolve().parents[1]
REF_DIR = ROOT / "referentiel"
SOURCE = REF_DIR / "source" / "referentiel-mdc-2023.txt"
CONTRACT_CANDIDATES = [ROOT / "shared" / "criteria-ids.md", ROOT.parent / "shared" / "criteria-ids.md"]

COUNTS = {
    "C1": 3, "C2": 4, "C3": 4, "C4": 8, "C5": 3, "C6": 6, "C7": 4, "C8": 3, "C9": 2, "C10": 5,
    "C11": 3, "C12": 5, "C13": 6, "C14": 5, "C15": 4, "C16": 2, "C17": 3, "C18": 4, "C19": 3, "C20": 2,
}  # fmt: skip
MODALITY_COMPETENCIES = {
    "M1": [f"C{i}" for i in range(1, 6)],
    "M2": [f"C{i}" for i in range(6, 10)],
    "M3": [f"C{i}" for i in range(10, 15)],
    "M4": [f"C{i}" for i in range(15, 21)],
}
C4_PREAMBLE = (
    "La stratégie commerciale présentée est cohérente avec les résultats de l’analyse-diagnostic, "
    "avec l’orientation définie et avec le potentiel de l’entreprise, à savoir :"
)
C13_PREAMBLE = "L’offre proposée :"


def norm(text: str) -> str:
    """Collapse every whitespace run (line breaks included) to one space; nothing else."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def ref() -> Referentiel:
    return load_referentiel()


@pytest.fixture(scope="module")
def source() -> str:
    return norm(SOURCE.read_text(encoding="utf-8"))


def _contract_path() -> Path | None:
    return next((p for p in CONTRACT_CANDIDATES if p.is_file()), None)


def _contract_rows() -> dict[str, str]:
    path = _contract_path()
    if path is None:
        pytest.skip("shared/criteria-ids.md not available")
    rows = re.findall(r"^\|\s*(C\d+\.\d+)\s*\|\s*(.+?)\s*\|\s*$", path.read_text(encoding="utf-8"), re.M)
    assert rows, f"{path}: no criterion rows parsed"
    return dict(rows)


# --- ids and counts ---------------------------------------------------------------------------


def test_counts(ref: Referentiel) -> None:
    assert len(ref.criteria_by_id) == 79
    assert {c.id: len(c.criteria) for c in ref.competencies} == COUNTS
    assert ref.expected_counts == COUNTS
    assert len(ref.criteria_for("M1")) == 22
    assert len(ref.criteria_for("M2")) == 15
    assert len(ref.criteria_for("M3")) == 24
    assert len(ref.criteria_for("M4")) == 18


def test_criterion_ids_are_sequential(ref: Referentiel) -> None:
    for comp in ref.competencies:
        assert [k.id for k in comp.criteria] == [f"{comp.id}.{i}" for i in range(1, len(comp.criteria) + 1)]


def test_blocs_activities_and_modalities(ref: Referentiel) -> None:
    assert [b.id for b in ref.blocs] == ["B1", "B2", "B3", "B4"]
    assert [a.id for b in ref.blocs for a in b.activities] == [f"A{i}" for i in range(1, 9)]
    led = [c for b in ref.blocs for a in b.activities for c in a.competencies]
    assert sorted(led) == sorted(COUNTS), "every competency is led to by exactly one activity"
    for b in ref.blocs:
        for a in b.activities:
            assert all(ref.competency(c).bloc == b.id for c in a.competencies), a.id
            assert a.tasks, a.id
    assert {m.id: m.competencies for m in ref.modalities} == MODALITY_COMPETENCIES


def test_every_modality_competency_has_expected_content(ref: Referentiel) -> None:
    for m in ref.modalities:
        served = {c for item in m.expected_contents for c in item.competencies}
        assert served == set(m.competencies), m.id
        assert all(item.competencies for item in m.expected_contents), m.id


def test_preambles(ref: Referentiel) -> None:
    for crit_id, crit in ref.criteria_by_id.items():
        if crit_id.startswith("C4."):
            assert crit.preamble == C4_PREAMBLE, crit_id
        elif crit_id in {"C13.3", "C13.4", "C13.5", "C13.6"}:
            assert crit.preamble == C13_PREAMBLE, crit_id
        else:
            assert crit.preamble is None, crit_id


def test_contract_ids_and_opening_words(ref: Referentiel) -> None:
    rows = _contract_rows()
    assert list(rows) == list(ref.criteria_by_id)
    for crit_id, opening in rows.items():
        crit = ref.criteria_by_id[crit_id]
        if opening.startswith("("):  # "(L'offre proposée :) met en avant ...": preamble, then text
            m = re.match(r"^\((.+?)\)\s*(.+)$", opening)
            assert m, opening
            assert _apos(crit.preamble or "") == _apos(m.group(1)), crit_id
            opening = m.group(2)
        # the contract is typed with straight apostrophes; the official text keeps ’
        assert _apos(crit.text).startswith(_apos(opening)), f"{crit_id}: {crit.text[:60]!r} vs {opening!r}"


def test_contract_counts(ref: Referentiel) -> None:
    rows = _contract_rows()
    per_comp: dict[str, int] = {}
    for crit_id in rows:
        per_comp[crit_id.split(".")[0]] = per_comp.get(crit_id.split(".")[0], 0) + 1
    assert per_comp == ref.expected_counts


def _apos(text: str) -> str:
    return text.replace("’", "'")


# --- verbatim transcription -------------------------------------------------------------------


def _verbatim_items() -> list[tuple[str, str]]:
    ref = load_referentiel()
    items: list[tuple[str, str]] = []
    for b in ref.blocs:
        items.append((f"{b.id} title", b.title))
        for a in b.activities:
            items.append((f"{a.id} title", a.title))
            items += [(f"{a.id} task {i}", t) for i, t in enumerate(a.tasks, 1)]
    for c in ref.competencies:
        items.append((f"{c.id} statement", c.statement))
        for k in c.criteria:
            items.append((k.id, k.text))
            if k.preamble:
                items.append((f"{k.id} preamble", k.preamble))
    for m in ref.modalities:
        items.append((f"{m.id} subtitle", m.subtitle))
    return items


@pytest.mark.parametrize(("where", "text"), _verbatim_items(), ids=lambda v: v if len(v) < 20 else "")
def test_text_is_verbatim(where: str, text: str, source: str) -> None:
    assert text == norm(text), f"{where}: not whitespace-normalised"
    assert not text.startswith(("-", "➢", " ")), f"{where}: leading bullet"
    assert text in source, f"{where}: not found verbatim in {SOURCE.name}: {text!r}"


def _found_in_at_most_two_pieces(text: str, source: str) -> bool:
    """The PDF's columns interleave: an item may be cut in two by another column's paragraph."""
    if text in source:
        return True
    cuts = [m.start() for m in re.finditer(" ", text)]
    return any(text[:i] in source and text[i + 1 :] in source for i in cuts)


def test_modality_texts_are_verbatim(ref: Referentiel, source: str) -> None:
    for m in ref.modalities:
        assert f"{m.id} – {m.title}" in source, m.id
        for para in m.description.split("\n\n"):
            assert para == norm(para) and para in source, f"{m.id} description: {para!r}"
        for i, item in enumerate(m.expected_contents, 1):
            assert item.text == norm(item.text), f"{m.id} #{i}"
            assert not item.text.startswith("-"), f"{m.id} #{i}"
            assert _found_in_at_most_two_pieces(item.text, source), f"{m.id} #{i}: {item.text!r}"


def test_criteria_follow_source_order(ref: Referentiel, source: str) -> None:
    for comp in ref.competencies:
        start = source.index(comp.statement)
        positions = [source.index(k.text, start) for k in comp.criteria]
        assert positions == sorted(positions), comp.id


# --- scale and indicators ---------------------------------------------------------------------


def test_scale(ref: Referentiel) -> None:
    assert ref.scale.id == "default-4"
    assert [(lv.level, lv.label) for lv in ref.scale.levels] == [
        (0, "Non démontré"),
        (1, "Insuffisant"),
        (2, "Satisfaisant"),
        (3, "Maîtrisé"),
    ]
    assert ref.scale.levels[0].meaning == "Rien dans le dossier ne traite le critère."
    assert ref.scale.rule.acquired_min_level == 2
    assert ref.verdict([2, 3, 2]) == "acquise"
    assert ref.verdict([3, 1]) == "non acquise"
    assert ref.verdict([3, None]) == "à vérifier"


def test_indicators(ref: Referentiel) -> None:
    wanted = [k for c in ref.competencies if int(c.id[1:]) <= 9 for k in c.criteria]
    assert len(wanted) == 37
    for crit in wanted:
        phrases = ref.indicators.get(crit.id)
        assert phrases, f"{crit.id}: no indicators"
        assert 8 <= len(phrases) <= 15, crit.id
        assert len({p.casefold() for p in phrases}) == len(phrases), f"{crit.id}: duplicate phrase"
        assert all(p == norm(p) and p for p in phrases), crit.id


# --- broken referentiels ----------------------------------------------------------------------


def _crit(data: dict[str, Any], crit_id: str) -> dict[str, Any]:
    comp = next(c for c in data["competencies"] if c["id"] == crit_id.split(".")[0])
    return next(k for k in comp["criteria"] if k["id"] == crit_id)


def _comp(data: dict[str, Any], comp_id: str) -> dict[str, Any]:
    return next(c for c in data["competencies"] if c["id"] == comp_id)


def _mod(data: dict[str, Any], mod_id: str) -> dict[str, Any]:
    return next(m for m in data["modalities"] if m["id"] == mod_id)


def _dup_criterion(d: dict[str, Any]) -> None:
    _crit(d, "C1.2")["id"] = "C1.1"


def _remove_criterion(d: dict[str, Any]) -> None:
    _comp(d, "C2")["criteria"].pop()


def _misfiled_criterion(d: dict[str, Any]) -> None:
    _comp(d, "C3")["criteria"].append(_comp(d, "C5")["criteria"].pop())
    d["expected_counts"]["C3"] += 1
    d["expected_counts"]["C5"] -= 1


def _modality_c99(d: dict[str, Any]) -> None:
    _mod(d, "M1")["competencies"].append("C99")


def _content_outside_modality(d: dict[str, Any]) -> None:
    _mod(d, "M2")["expected_contents"][0]["competencies"].append("C1")


def _activity_unknown(d: dict[str, Any]) -> None:
    d["blocs"][1]["activities"][0]["competencies"].append("C42")


def _unknown_bloc(d: dict[str, Any]) -> None:
    _comp(d, "C7")["bloc"] = "B9"


def _missing_text(d: dict[str, Any]) -> None:
    del _crit(d, "C6.3")["text"]


def _typo_field(d: dict[str, Any]) -> None:
    _crit(d, "C8.2")["txt"] = _crit(d, "C8.2").pop("text")


def _levels_gap(d: dict[str, Any]) -> None:
    d["levels"][2]["level"] = 5


def _rule_out_of_range(d: dict[str, Any]) -> None:
    d["rule"]["acquired_min_level"] = 7


def _unknown_indicator(d: dict[str, Any]) -> None:
    d["C1.9"] = ["veille"]


def _indicator_not_list(d: dict[str, Any]) -> None:
    d["C7.4"] = {"calendrier": 1}


REF_FILE = "mdc-2023.yaml"
SCALE_FILE = "scales/default.yaml"
IND_FILE = "indicators/mdc-2023.yaml"


@pytest.mark.parametrize(
    ("file", "mutate", "entry"),
    [
        pytest.param(REF_FILE, _dup_criterion, "C1.1", id="duplicate-criterion-id"),
        pytest.param(REF_FILE, _remove_criterion, "C2", id="criterion-removed"),
        pytest.param(REF_FILE, _misfiled_criterion, "C5.3", id="criterion-under-wrong-competency"),
        pytest.param(REF_FILE, _modality_c99, "C99", id="modality-unknown-competency"),
        pytest.param(REF_FILE, _content_outside_modality, "M2", id="expected-content-outside-modality"),
        pytest.param(REF_FILE, _activity_unknown, "C42", id="activity-unknown-competency"),
        pytest.param(REF_FILE, _unknown_bloc, "C7", id="competency-unknown-bloc"),
        pytest.param(REF_FILE, _missing_text, "C6.3", id="criterion-without-text"),
        pytest.param(REF_FILE, _typo_field, "C8.2", id="criterion-unknown-field"),
        pytest.param(SCALE_FILE, _levels_gap, "levels", id="scale-levels-not-contiguous"),
        pytest.param(SCALE_FILE, _rule_out_of_range, "acquired_min_level", id="scale-rule-out-of-range"),
        pytest.param(IND_FILE, _unknown_indicator, "C1.9", id="unknown-indicator-id"),
        pytest.param(IND_FILE, _indicator_not_list, "C7.4", id="indicator-not-a-list"),
    ],
)
def test_broken_referentiel_names_file_and_entry(tmp_path: Path, file: str, mutate: Any, entry: str) -> None:
    root = tmp_path / "referentiel"
    shutil.copytree(REF_DIR, root)
    target = root / file
    data = yaml.safe_load(target.read_text(encoding="utf-8"))
    mutate(data)
    target.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ReferentielError) as exc:
        load_referentiel(root / REF_FILE)
    message = str(exc.value)
    assert str(target) in message, message
    assert entry in message, message
    assert str(target) in exc.value.user_message


def test_missing_and_invalid_files(tmp_path: Path) -> None:
    root = tmp_path / "referentiel"
    shutil.copytree(REF_DIR, root)
    (root / SCALE_FILE).unlink()
    with pytest.raises(ReferentielError, match=r"default\.yaml: file not found"):
        load_referentiel(root / REF_FILE)
    (root / REF_FILE).write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(ReferentielError, match="invalid YAML"):
        load_referentiel(root / REF_FILE)
