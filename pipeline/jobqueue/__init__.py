"""Review jobs: a job row per upload, one function that runs it in a limited child process, and two
ways to feed that function — threads of the web server (embedded default) or a PostgreSQL queue
(procrastinate) served by `dossier-review worker` processes on any machine."""
