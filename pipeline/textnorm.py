"""Text normalisation shared by ingestion, grounding, retrieval and evals.

`normalise` produces the dossier's canonical text (NFC, ligatures expanded, every space
variant a plain space, whitespace collapsed); typographic apostrophes and quotes are kept.
`fold` maps a normalised string to its match key of the same length (apostrophes, quotes
and dashes unified, lower case), so offsets found in the folded text are offsets in the
original text.
"""

from __future__ import annotations

import re
import unicodedata

_LIGATURES = {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"}
# NBSP, narrow NBSP (French before ; : ! ?), thin, figure, en/em spaces, ideographic space...
_SPACES = "\u00a0\u202f\u2009\u2007\u2002\u2003\u2004\u2005\u2006\u2008\u200a\u3000\t\r\f\v"
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"  # zero-width chars and soft hyphen vanish
_TRANSLATE = str.maketrans({**{c: " " for c in _SPACES}, **{c: None for c in _ZERO_WIDTH}, **_LIGATURES})
_FOLD = str.maketrans(
    {
        "’": "'",
        "‘": "'",
        "‛": "'",
        "ʼ": "'",
        "`": "'",
        "´": "'",
        "′": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "«": '"',
        "»": '"',
        "″": '"',
        "–": "-",
        "—": "-",
        "‐": "-",
        "‑": "-",
        "−": "-",
        "…": ".",
    }
)
_WS = re.compile(r"[ \n]+")
_WORD = re.compile(r"[\w’']+", re.UNICODE)


def normalise(text: str, keep_newlines: bool = False) -> str:
    """Canonical form of extracted text; with keep_newlines, line breaks survive (for layout work)."""
    text = unicodedata.normalize("NFC", text).translate(_TRANSLATE)
    if keep_newlines:
        return "\n".join(re.sub(r" +", " ", line).strip() for line in text.split("\n"))
    return _WS.sub(" ", text).strip()


def fold(text: str) -> str:
    """Match key of a normalised string: same length, typography unified, lower case."""
    folded = text.translate(_FOLD).lower()
    # str.lower can change length for a few characters (e.g. 'İ'); fall back char by char.
    if len(folded) != len(text):
        folded = "".join(c.translate(_FOLD).lower()[:1] or c for c in text)
    return folded


def words(text: str) -> list[str]:
    """Lower-case word tokens with typography folded (for token-overlap measures)."""
    return [w.replace("’", "'") for w in _WORD.findall(text.lower())]


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary and marked « […] » when trimmed."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 4, 1)]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + " […]"
