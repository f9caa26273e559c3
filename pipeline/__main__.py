"""`dossier-review` (the console script) and `python -m pipeline`.

A command imports thousands of module-level objects (typer and rich, then chromadb, SQLAlchemy,
numpy…) that live until the process ends. Left to itself the cyclic collector scans them again
and again while they load, and once more, one by one, when the interpreter exits: about half a
second of a warm `review`, more than its own pipeline. So the collector is paused while the
command line loads, commands load their stack inside `cli.loading()` (paused as well, and running
again for the command's own work), and at exit everything still alive is frozen instead of
collected. Memory is unchanged: the collector only ever runs for cycles, and what is frozen at
exit is freed by the operating system with the process.
"""

from __future__ import annotations

import gc


def main() -> None:
    gc.disable()
    try:
        from pipeline.cli import app
    finally:
        gc.enable()
    try:
        app()
    finally:
        gc.freeze()


if __name__ == "__main__":
    main()
