"""How a suggestion's confidence is written, the same in every output (web, Markdown, terminal).

The offline drafter's confidence is calibrated on dev as the probability that the suggested level
is exactly right; the label says so, so that a bare percentage is never read as a mark.
"""

from __future__ import annotations

NBSP = "\u00a0"  # French typography: a no-break space before « : » and « % »
MEANING = "probabilité estimée que le niveau soit exact"


def confidence_percent(confidence: float) -> str:
    """`72 %`, with a no-break space."""
    return f"{round(100 * confidence)}{NBSP}%"


def confidence_label(confidence: float) -> str:
    """`Confiance : 72 % (probabilité estimée que le niveau soit exact)`."""
    return f"Confiance{NBSP}: {confidence_percent(confidence)} ({MEANING})"
