"""Second reading of manipulation attempts: a linear classifier over sentence embeddings.

The cue-based detector (`manipulation.py`) reads how an attempt is built, and each set of new
phrasings written after it was scored at first between 0.72 and 0.83 recall: a new wording
slips past rules written for the last one. This stage reads what a sentence *means*: a
logistic regression over multilingual-e5-small query embeddings, fitted by
`evals/manipulation/fit_semantic.py` on the labelled sets the rules were tuned on (never on
`test`, `final` or `final2`), with a threshold chosen by leaving one set out at a time so that
no ordinary sentence of a held-out set is flagged.

Only sentences that hold a word of the grading, AI or instruction vocabulary and speak to
someone (`readable`) are embedded (a few dozen per dossier), so an ordinary dossier costs well
under a second of model time. The stage
runs when the review's embedder is the model the classifier was fitted on (locally or behind
an embeddings endpoint); with another embedder it is skipped and the review says so in its log.
Flags it raises are `manipulation` findings like the rules': the text stays, shown to the
assessor, and is only excluded from evidence and marks.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline.embeddings import Embedder
from pipeline.ingest import parsed_cache_file, write_cache
from pipeline.manipulation import _plain, _words, hidden_finding, line_units, visible_finding
from pipeline.types import Dossier, Finding

log = logging.getLogger(__name__)

MODEL_PATH = Path(__file__).with_name("manipulation_semantic.json")
# A unit shorter than this is a label or a cell value; longer than this is a paragraph the
# sentence splitter could not cut, and its meaning is diluted (no tuning sentence is longer).
MIN_UNIT_CHARS = 20
MAX_UNIT_CHARS = 600

# Words (folded, accents stripped) without which a unit is not embedded: grading, marks,
# criteria, AI and grader names, instructions. Written from the referentiel's vocabulary and
# the kinds of attempt in evals/manipulation/README.md, not from the classifier's errors.
CUE_WORDS = _words(
    """
    note notes noter notez notation notee evaluation evaluations evaluer evaluez evalue evaluateur
    evaluatrice evaluateurs correcteur correctrice correcteurs correction corriger corrigez jury jurys examinateur
    examinatrice critere criteres grille grilles bareme niveau niveaux points point maximum maximale maximal
    max score scores mark marks grade grades grading grader graders reviewer reviewers rater marker assessor
    assessment evaluator examiner rubric criteria criterion ia ai llm gpt chatgpt claude gemini mistral copilot
    modele model assistant chatbot bot robot algorithme programme systeme machine automatique automatise
    instruction instructions consigne consignes ignore ignorez ignorer ignorant oublie oubliez disregard
    prompt system systeme valide validee valides validees validez valider acquis acquise maitrise maitrisee
    competence competences excellent excellente parfait parfaite reussite admis admission certification
    dossier candidat candidate copie travail document outil outils lecture signaler signale signalez mentionne
    mentionner mentionnez partout tu ton ta tes toi memoire rapport report synthese summary resume grid conforme
    conformite exigence exigences requirement requirements
    """
)
# An attempt speaks to someone or about the evaluation of this work: a grader, a second person,
# an imperative of grading, this dossier. A sentence about AI or marks in the market (« l'IA,
# menace croissante ») holds none of these and is never read for meaning (it was the one false
# alarm of the stage on 20 real public documents before this gate; the gate costs no recall on the
# tuning sets).
ADDRESS_WORDS = _words(
    """
    correcteur correctrice correcteurs evaluateur evaluatrice evaluateurs examinateur examinatrice grader graders
    reviewer reviewers examiner assessor evaluator marker rater lecteur lectrice jury tu te toi ton ta tes vous
    votre vos you your ignore ignorez ignorer oublie oubliez disregard attribue attribuez attribuer accorde accordez
    accorder donne donnez donner mets mettez considere considerez valide validez valider notez noter give assign
    award rate mark grade consider treat forget please merci dossier document travail copie candidat candidate
    memoire rapport this
    """
)
_WORD = re.compile(r"[a-z0-9]+")
# A unit read for meaning is a sentence: at least this many words of letters, and few tokens of
# code, formulas or identifiers (« max_note », « F1-score = 2 ») whose grading words mean nothing.
MIN_WORDS = 5
_LETTERS = re.compile(r"[^\W\d_]{2,}")
_CODE_TOKEN = re.compile(r"[_=(){}\[\]<>]|\d")


@dataclass(frozen=True)
class SemanticModel:
    weights: np.ndarray
    bias: float
    scale: float
    threshold: float
    embedders: tuple[str, ...]
    hash: str = ""

    def usable_with(self, embedder: Embedder) -> bool:
        return getattr(embedder, "dim", 0) == len(self.weights) and any(
            e in getattr(embedder, "name", "") for e in self.embedders
        )

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-((vectors * self.scale) @ self.weights + self.bias)))


@lru_cache(maxsize=1)
def load_model(path: Path = MODEL_PATH) -> SemanticModel | None:
    if not path.is_file():
        return None
    raw = path.read_bytes()
    data = json.loads(raw)
    return SemanticModel(
        hash=hashlib.sha256(raw).hexdigest(),
        weights=np.asarray(data["weights"], dtype=np.float32),
        bias=float(data["bias"]),
        scale=float(data["scale"]),
        threshold=float(data["threshold"]),
        embedders=tuple(data["embedders"]),
    )


def has_cue(text: str) -> bool:
    return not CUE_WORDS.isdisjoint(_WORD.findall(_plain(text)))


def addresses(text: str) -> bool:
    return not ADDRESS_WORDS.isdisjoint(_WORD.findall(_plain(text)))


def readable(text: str) -> bool:
    """A unit the stage reads for meaning: a sentence, with a grading word, that speaks to someone."""
    return has_cue(text) and sentence_like(text) and addresses(text)


def sized(text: str) -> bool:
    """Long enough to be a statement, short enough to be one sentence."""
    return MIN_UNIT_CHARS <= len(text) <= MAX_UNIT_CHARS


def read_by_stage(text: str) -> bool:
    """A unit of a dossier the stage embeds and judges (`candidates`' default): sized and readable."""
    return sized(text) and readable(text)


def sentence_like(text: str) -> bool:
    tokens = text.split()
    code = sum(1 for t in tokens if _CODE_TOKEN.search(t))
    return len(_LETTERS.findall(text)) >= MIN_WORDS and code * 3 <= len(tokens)


def units(text: str) -> list[tuple[int, int]]:
    """Sentence spans of a block's text, cell by cell in table rows (the rules' units)."""
    out: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        out.extend((pos + s, pos + e) for s, e in line_units(line)[0])
        pos += len(line) + 1
    return out


def candidates(dossier: Dossier, keep: Callable[[str], bool] | None = None) -> list[tuple[int, int, int]]:
    """(block index, start, end) of the units worth embedding (`readable` unless `keep` says
    otherwise), not already flagged."""
    keep = keep or readable
    flagged = [(f.start, f.end) for f in dossier.findings if f.kind == "manipulation" and f.start is not None and f.end]
    out = []
    for i, block in enumerate(dossier.blocks):
        if block.kind == "heading":
            continue
        for s, e in units(block.text):
            a, b = block.start + s, block.start + e
            if any(a < fe and b > fs for fs, fe in flagged):
                continue
            if sized(block.text[s:e]) and keep(block.text[s:e]):
                out.append((i, s, e))
    return out


def detect_semantic(dossier: Dossier, embedder: Embedder) -> list[Finding]:
    """Manipulation findings the rules missed, for units whose meaning reads as an attempt."""
    model = load_model()
    if model is None or not model.usable_with(embedder):
        log.info("semantic manipulation check skipped: no classifier for embedder %s", getattr(embedder, "name", "?"))
        return []
    found = candidates(dossier)
    hidden = [f for f in dossier.findings if f.kind == "hidden_text" and readable(f.text)]
    texts = [dossier.blocks[i].text[s:e] for i, s, e in found] + [f.text[:MAX_UNIT_CHARS] for f in hidden]
    if not texts:
        return []
    probs = model.probabilities(embedder.embed_queries(texts))
    findings = [
        visible_finding(
            dossier.blocks[i],
            s,
            e,
            "Passage visible dont le sens est proche des consignes adressées à un correcteur automatique "
            f"(lecture sémantique, probabilité {p:.0%} ; à vérifier)",
        )
        for (i, s, e), p in zip(found, probs[: len(found)], strict=True)
        if p >= model.threshold
    ]
    for f, p in zip(hidden, probs[len(found) :], strict=True):
        if p >= model.threshold and not any(g.kind == "manipulation" and g.text == f.text for g in dossier.findings):
            why = f"Texte caché dont le sens est proche d’une consigne à l’outil (lecture sémantique, {p:.0%})."
            findings.append(hidden_finding(f, why))
    return findings


def detect_semantic_cached(dossier: Dossier, embedder: Embedder, cache_dir: Path) -> list[Finding]:
    """`detect_semantic`, kept beside the dossier's parse cache (`<sha256>-semantic-….json`, which
    erasure removes with it): a second review of the same file reads its sentences again only when
    the text, the classifier or the embedder changed."""
    model = load_model()
    if model is None or not model.usable_with(embedder):
        return detect_semantic(dossier, embedder)
    key = hashlib.sha256(f"{model.hash}|{embedder.name}|{dossier.text}".encode()).hexdigest()[:16]
    path = parsed_cache_file(cache_dir, dossier.sha256, f"semantic-{key}")
    if path.is_file():
        try:
            return [Finding.model_validate(f) for f in json.loads(path.read_bytes())]
        except ValueError:
            log.info("ignoring unreadable semantic cache %s", path.name)
    findings = detect_semantic(dossier, embedder)
    write_cache(path, json.dumps([f.model_dump(mode="json") for f in findings]))
    return findings
