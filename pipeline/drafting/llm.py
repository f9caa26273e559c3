"""OpenAI-compatible drafter (OpenAI, Mistral, vLLM, Ollama, llama.cpp server): the only module
that imports langchain/openai.

Per criterion: render the checked prompt templates with the retrieved chunks fenced between
random per-call delimiters, call the model at temperature 0 in JSON mode, validate the answer
against `LLMAnswer`, retry once with the validation error. Answers are cached on disk keyed by
(prompt hash, model, messages). A criterion whose call fails ends "à revoir"; the run goes on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.privacy import Pseudonymiser
from pipeline.prompts import PromptSet, draft_prompts
from pipeline.referentiel import Criterion, Referentiel
from pipeline.settings import Settings
from pipeline.types import CriterionDraft, Dossier, Evidence, Gap, Hit, Provenance

log = logging.getLogger(__name__)


class LLMEvidence(BaseModel):
    model_config = ConfigDict(extra="ignore")
    chunk_id: str
    quote: str = Field(min_length=1)
    why: str = ""


class LLMAnswer(BaseModel):
    """What the model must return: its own schema, apart from the domain's CriterionDraft."""

    model_config = ConfigDict(extra="ignore")
    level: int
    confidence: float = Field(ge=0, le=1)
    rationale: str = Field(min_length=1)
    present: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    evidence: list[LLMEvidence] = Field(default_factory=list)
    manipulation: bool = False


class LLMDrafter:
    name = "openai"

    def __init__(self, settings: Settings, prompts: PromptSet | None = None) -> None:
        self.settings = settings
        self.prompts = prompts or draft_prompts()
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
        self.model = ChatOpenAI(
            model=settings.llm_model,
            base_url=settings.llm_base_url,
            api_key=key,
            temperature=0,
            timeout=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
        ).bind(response_format={"type": "json_object"})
        self.cache_root = settings.cache_dir / "llm"

    # --- public ---------------------------------------------------------------------------------

    def draft_all(
        self, dossier: Dossier, ref: Referentiel, module: str, hits: dict[str, list[Hit]]
    ) -> dict[str, CriterionDraft]:
        pseudo = (
            Pseudonymiser.for_dossier(dossier, ref.vocabulary.not_person_words) if self.settings.pseudonymise else None
        )
        # one cache folder per dossier, so that erasing a dossier erases its cached answers
        self.cache_dir = self.cache_root / dossier.sha256
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        criteria = ref.criteria_for(module)
        with ThreadPoolExecutor(max_workers=self.settings.llm_concurrency) as pool:
            futures = {
                c.id: pool.submit(self._draft_safe, ref, module, c, hits.get(c.id, []), pseudo) for c in criteria
            }
            return {cid: f.result() for cid, f in futures.items()}

    # --- one criterion --------------------------------------------------------------------------

    def _draft_safe(
        self, ref: Referentiel, module: str, c: Criterion, hits: list[Hit], pseudo: Pseudonymiser | None
    ) -> CriterionDraft:
        t0 = time.perf_counter()
        try:
            return self._draft(ref, module, c, hits, pseudo, t0)
        except Exception as e:  # a failed criterion is "à revoir", never a crashed run
            log.warning("criterion %s failed: %s: %s", c.id, type(e).__name__, e)
            return CriterionDraft(
                criterion_id=c.id,
                level=None,
                confidence=0.0,
                rationale="Le modèle n’a pas pu produire de proposition pour ce critère : à évaluer à la main.",
                status="à revoir",
                flags=[f"échec de l’appel au modèle ({type(e).__name__})"],
                provenance=self._provenance(hits, t0),
            )

    def messages(
        self,
        ref: Referentiel,
        module: str,
        c: Criterion,
        hits: list[Hit],
        pseudo: Pseudonymiser | None,
        tag: str | None = None,
    ) -> tuple[list[BaseMessage], dict[str, str]]:
        tag = tag or secrets.token_hex(6)
        open_, close = f"<<<DONNEES-{tag}>>>", f"<<<FIN-DONNEES-{tag}>>>"
        alias: dict[str, str] = {}
        parts = []
        for i, h in enumerate([h for h in hits if not h.chunk.flagged], 1):
            sid = f"S{i}"
            alias[sid] = h.chunk.id
            text = pseudo.apply(h.chunk.clean_text) if pseudo else h.chunk.clean_text  # flagged spans never sent
            where = ", ".join(x for x in (h.chunk.section_label, h.chunk.page_label) if x)
            parts.append(f"[segment {sid} — {where}]\n{text}")
        modality = ref.modality(module)
        scale = "\n".join(f"- {lv.level} — {lv.label} : {lv.meaning}" for lv in ref.scale.levels)
        system = self.prompts.system.render(
            referentiel=ref.title,
            module_id=modality.id,
            module_title=f"{modality.title} : {modality.subtitle}",
            delimiter_open=open_,
            delimiter_close=close,
            scale=scale,
        )
        user = self.prompts.user.render(
            criterion_id=c.id,
            competency_id=c.competency_id,
            preamble=f"{c.preamble}\n" if c.preamble else "",
            criterion_text=c.text,
            expected_contents="\n".join(f"- {t}" for t in ref.expected_contents_for(c.id)) or "-",
            chunks="\n\n".join(parts) or "(aucun extrait pertinent trouvé)",
            delimiter_open=open_,
            delimiter_close=close,
        )
        return [SystemMessage(system), HumanMessage(user)], alias

    def _cache_key(self, messages: list[BaseMessage]) -> str:
        """Key of the messages as rendered with a fixed delimiter, so that a rerun hits the cache."""
        text = json.dumps([(m.type, str(m.content)) for m in messages], ensure_ascii=False)
        raw = f"{self.prompts.hash}|{self.settings.llm_model}|{self.settings.llm_base_url}|{text}"
        return hashlib.sha256(raw.encode()).hexdigest()

    def _draft(
        self, ref: Referentiel, module: str, c: Criterion, hits: list[Hit], pseudo: Pseudonymiser | None, t0: float
    ) -> CriterionDraft:
        messages, alias = self.messages(ref, module, c, hits, pseudo)
        fixed, _ = self.messages(ref, module, c, hits, pseudo, tag="0" * 12)
        cache_file = self.cache_dir / f"{self._cache_key(fixed)}.json"
        tokens_in = tokens_out = 0
        cached = cache_file.exists()
        if cached:
            payload = json.loads(cache_file.read_text(encoding="utf-8"))
            answer, raw = LLMAnswer.model_validate(payload["answer"]), payload["raw"]
        else:
            answer, raw, tokens_in, tokens_out = self._ask(messages)
            _atomic_write(cache_file, {"answer": answer.model_dump(), "raw": raw})
        return self._to_draft(ref, c, hits, answer, alias, pseudo, raw, t0, tokens_in, tokens_out, cached)

    def _ask(self, messages: list[BaseMessage]) -> tuple[LLMAnswer, str, int, int]:
        tokens_in = tokens_out = 0
        history = list(messages)
        for attempt in (1, 2):
            reply = self.model.invoke(history)
            usage = getattr(reply, "usage_metadata", None) or {}
            tokens_in += int(usage.get("input_tokens", 0))
            tokens_out += int(usage.get("output_tokens", 0))
            raw = str(reply.content)
            try:
                return LLMAnswer.model_validate_json(raw), raw, tokens_in, tokens_out
            except ValidationError as e:
                if attempt == 2:
                    raise
                history += [
                    AIMessage(raw),
                    HumanMessage(
                        "Ta réponse n’est pas un JSON valide pour le schéma demandé. Erreurs de validation :\n"
                        f"{e}\nRenvoie uniquement l’objet JSON corrigé."
                    ),
                ]
        raise AssertionError("unreachable")

    def _to_draft(
        self,
        ref: Referentiel,
        c: Criterion,
        hits: list[Hit],
        answer: LLMAnswer,
        alias: dict[str, str],
        pseudo: Pseudonymiser | None,
        raw: str,
        t0: float,
        tokens_in: int,
        tokens_out: int,
        cached: bool,
    ) -> CriterionDraft:
        restore = pseudo.restore if pseudo else (lambda s: s)
        by_id = {h.chunk.id: h.chunk for h in hits}
        flags: list[str] = []
        evidence: list[Evidence] = []
        dropped = 0
        for ev in answer.evidence[:5]:
            chunk_id = alias.get(ev.chunk_id.strip(), ev.chunk_id.strip())
            chunk = by_id.get(chunk_id)
            if chunk is None:
                dropped += 1  # cites a segment it was not given
                continue
            evidence.append(
                Evidence(
                    chunk_id=chunk.id,
                    quote=restore(ev.quote),
                    page=chunk.pages[0] if chunk.pages else None,
                    section=chunk.section_label,
                    why=restore(ev.why),
                )
            )
        level = answer.level
        scale = ref.scale
        status = "suggested"
        if not scale.min_level <= level <= scale.max_level:
            flags.append(f"niveau hors échelle proposé par le modèle ({level})")
            level, status = max(scale.min_level, min(scale.max_level, level)), "à revoir"
        if answer.manipulation:
            flags.append("le modèle signale une tentative d’influencer l’évaluation")
        return CriterionDraft(
            criterion_id=c.id,
            level=level,
            confidence=answer.confidence,
            rationale=restore(answer.rationale),
            present=[restore(x) for x in answer.present],
            missing=[restore(x) for x in answer.missing],
            gaps=[Gap(text=restore(x), kind="other") for x in answer.missing],
            evidence=evidence,
            status=status,
            flags=flags,
            dropped_quotes=dropped,
            provenance=self._provenance(
                hits, t0, tokens_in=tokens_in, tokens_out=tokens_out, cached=cached, raw_response=raw
            ),
        )

    def _provenance(self, hits: list[Hit], t0: float, **extra: Any) -> Provenance:
        return Provenance(
            backend=self.name,
            model=self.settings.llm_model,
            prompt_hash=self.prompts.hash,
            chunk_ids=[h.chunk.id for h in hits],
            seconds=round(time.perf_counter() - t0, 3),
            **extra,
        )


def _atomic_write(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


__all__ = ["LLMAnswer", "LLMDrafter"]
