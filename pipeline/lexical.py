"""BM25 over a dossier's chunks with French stemming and stop-words (bm25s + PyStemmer)."""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_FRENCH

logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets DEBUG on import

_TOKEN = re.compile(r"[\w]+(?:[-'][\w]+)*", re.UNICODE)
_STOP = set(STOPWORDS_FRENCH) | {"les", "des", "est", "sont", "une", "aux", "cette", "ces", "leur", "leurs", "entre"}


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("french")


def _plain(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


def tokens(text: str) -> list[tuple[str, str]]:
    """(stem, surface) pairs: elisions split off (l’offre → offre), stop-words dropped, figures kept."""
    out: list[tuple[str, str]] = []
    for raw in _TOKEN.findall(text.replace("’", "'")):
        for w in re.split(r"(?<=\b[a-zA-Z])'|(?<=\bqu)'", raw):
            low = w.lower().strip("'-")
            if not low or low in _STOP or (len(low) < 2 and not low.isdigit()):
                continue
            stem = _plain(_stemmer().stemWord(low)) if not low.isdigit() else low
            out.append((stem, w.strip("'-")))
    return out


class LexicalIndex:
    def __init__(self, texts: list[str]) -> None:
        self._tokens = [tokens(t) for t in texts]
        self._bm25 = bm25s.BM25()
        corpus = [[s for s, _ in toks] or ["∅"] for toks in self._tokens]
        self._bm25.index(corpus, show_progress=False)

    def scores(self, query: str) -> tuple[np.ndarray, list[str]]:
        q = [s for s, _ in tokens(query)]
        if not q:
            return np.zeros(len(self._tokens)), []
        vocab = self._bm25.vocab_dict
        known = [s for s in q if s in vocab]
        if not known:
            return np.zeros(len(self._tokens)), []
        return np.asarray(self._bm25.get_scores(known)), known

    def matched_terms(self, i: int, query_stems: list[str]) -> list[str]:
        wanted = set(query_stems)
        seen: dict[str, str] = {}
        for stem, surface in self._tokens[i]:
            if stem in wanted and stem not in seen:
                seen[stem] = surface.lower()
        return list(seen.values())
