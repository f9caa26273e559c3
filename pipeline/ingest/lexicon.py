"""French word list (from pyspellchecker's bundled frequency dictionary) and the repairs it makes certain.

The only module that reads the word list. Used to join line-end hyphens ("valori-" + "sation")
only when the joined word is French, and to repair glyphs that a font without a usable
ToUnicode map turned into symbols ("classifica*on", "&ckets"): a substitution is applied only
where it turns the token into a known word.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

# Ligatures whose glyph a broken ToUnicode map commonly turns into a symbol or a private-use code.
_LIGATURE_GUESSES = ("ti", "tt", "fi", "fl", "ff", "ffi", "ffl", "ft", "st", "ct", "tf", "th")
# A symbol or unmapped character inside a word: between letters, or before lower-case letters at
# the start of a token.
_BAD = r"\*&#\$%\+=@\^~|\\\ufffd\ue000-\uf8ff\x00-\x08\x0e-\x1f"
# A token of letters and at least one symbol or unmapped character ("classifica*on", "&ckets").
_SUSPECT = re.compile(rf"(?<![\w{_BAD}])(?=[\w{_BAD}]*[{_BAD}])[A-Za-zÀ-ÿ{_BAD}]*[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ{_BAD}]*")
_BAD_CHARS = re.compile(rf"[{_BAD}]")
_WORD = re.compile(r"[A-Za-zÀ-ÿœŒæÆ]+")


@lru_cache(maxsize=1)
def french_words() -> frozenset[str]:
    """Lower-case French word forms (about 140,000), loaded once."""
    try:
        blob = resources.files("spellchecker").joinpath("resources/fr.json.gz").read_bytes()
    except (FileNotFoundError, ModuleNotFoundError, OSError):  # pragma: no cover - dependency missing
        return frozenset()
    return frozenset(json.loads(gzip.decompress(blob)))


def is_word(word: str, vocab: set[str] | frozenset[str] = frozenset()) -> bool:
    low = word.lower()
    return low in vocab or low in french_words()


def join_hyphenated(left: str, right: str, vocab: set[str]) -> bool:
    """Whether 'left-' at a line end and 'right' on the next line are one word split by hyphenation."""
    return is_word(left + right, vocab)


@dataclass
class GlyphRepair:
    text: str
    repaired: int  # tokens repaired
    unrepaired: list[str]  # tokens still garbled
    words: int  # tokens in the text


def repair_glyphs(texts: list[str]) -> tuple[list[str], GlyphRepair]:
    """Repair symbol-for-ligature tokens across a document, learning one substitution per symbol.

    For each suspect symbol, the ligature that turns most of its tokens into French (or the
    document's own) words is chosen when it explains at least 60 % of them; a token is rewritten
    only when its rewritten form is a known word. Everything else is reported as unrepaired.
    """
    joined = "\n".join(texts)
    suspects = [m.group(0) for m in _SUSPECT.finditer(joined)]
    total_words = len(_WORD.findall(joined))
    if not suspects:
        return texts, GlyphRepair(joined, 0, [], total_words)
    vocab = {w.lower() for w in _WORD.findall(joined) if len(w) > 2}
    by_symbol: dict[str, list[str]] = {}
    for tok in suspects:
        for ch in set(_BAD_CHARS.findall(tok)):
            by_symbol.setdefault(ch, []).append(tok)
    mapping: dict[str, str] = {}
    for ch, toks in by_symbol.items():
        scores: Counter[str] = Counter()
        for lig in _LIGATURE_GUESSES:
            scores[lig] = sum(is_word(t.replace(ch, lig), vocab) for t in toks)
        best, hits = scores.most_common(1)[0]
        if hits >= 2 and hits >= 0.6 * len(toks):
            mapping[ch] = best
    repaired = 0
    unrepaired: list[str] = []

    def fix(m: re.Match[str]) -> str:
        nonlocal repaired
        tok = m.group(0)
        new = tok
        for ch, lig in mapping.items():
            new = new.replace(ch, lig)
        if new != tok and is_word(new, vocab):
            repaired += 1
            return new
        if _looks_garbled(tok):
            unrepaired.append(tok)
        return tok

    out = [_SUSPECT.sub(fix, t) for t in texts]
    return out, GlyphRepair("\n".join(out), repaired, unrepaired, total_words)


# A symbol or unmapped character inside a lower-case word ('R&D', 'C++', 'AT&T' are ordinary).
GARBLED_IN_WORD = re.compile(r"[a-zà-ÿ][\*&#\$%\+=@\^~|\\\ufffd\ue000-\uf8ff\x00-\x08\x0b\x0c\x0e-\x1f][a-zà-ÿ]")
_GARBLED_START = re.compile(r"[\*&#\$%\+=@\^~|\\\ufffd\ue000-\uf8ff\x00-\x08\x0b\x0c\x0e-\x1f][a-zà-ÿ]{2,}")


def _looks_garbled(tok: str) -> bool:
    return bool(GARBLED_IN_WORD.search(tok) or _GARBLED_START.match(tok))


def has_garbled_word(text: str) -> bool:
    """Whether a passage still holds a word whose glyphs were not mapped to letters ('classifica*on')."""
    return any(_looks_garbled(m.group(0)) for m in _SUSPECT.finditer(text))
