"""The confidence of a suggestion is written one way everywhere: labelled, with its meaning."""

from __future__ import annotations

from pipeline.reports.confidence import confidence_label, confidence_percent


def test_label_says_what_the_percentage_means_with_french_spacing() -> None:
    assert confidence_label(0.724) == "Confiance\u00a0: 72\u00a0% (probabilité estimée que le niveau soit exact)"
    assert confidence_percent(0.31) == "31\u00a0%"
    assert confidence_percent(1.0) == "100\u00a0%"


def test_web_filters_use_the_same_label() -> None:
    from pipeline.web.render import make_templates

    env = make_templates().env
    assert env.from_string("{{ 0.5 | confidence }}").render() == confidence_label(0.5)
    assert env.from_string("{{ 0.5 | pct }}").render() == "50\u00a0%"
