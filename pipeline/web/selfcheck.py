"""The top of a candidate's self-check, in the candidate's words: how much of the grid the draft
already addresses, what is solid, and the three things to work on first."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.reports.feedback import Feedback, FeedbackCriterion


@dataclass(frozen=True)
class Priority:
    id: str
    text: str
    advice: str


@dataclass(frozen=True)
class Overview:
    addressed: int
    total: int
    solid: list[str]
    priorities: list[Priority]


def state_of(crit: FeedbackCriterion) -> str:
    """`none` (nothing found), `gap` (found, with points to complete) or `ok`."""
    if not crit.found and not crit.present:
        return "none"
    return "gap" if crit.missing else "ok"


def overview(fb: Feedback) -> Overview:
    crits = [c for comp in fb.competencies for c in comp.criteria]
    addressed = [c for c in crits if state_of(c) != "none"]
    solid = [c.id for c in crits if state_of(c) == "ok" or (c.found and len(c.missing) <= 1)]
    # first what the draft does not address at all, then what lacks the most
    ranked = sorted(crits, key=lambda c: (state_of(c) != "none", -len(c.missing)))
    priorities = [
        Priority(id=c.id, text=c.text, advice=c.advice[0] if c.advice else "") for c in ranked if state_of(c) != "ok"
    ][:3]
    return Overview(addressed=len(addressed), total=len(crits), solid=solid[:6], priorities=priorities)
