"""One entry point for the benchmarks on the local stack (deploy/local-stack.sh start first).

    python deploy/bench/run.py inbound [ARGS...]    # deploy/bench/inbound.py
    python deploy/bench/run.py outbound [ARGS...]   # deploy/bench/outbound.py
    python deploy/bench/run.py api [ARGS...]        # deploy/bench/api.py
    python deploy/bench/run.py reports [ARGS...]    # deploy/bench/reports_bench.py, on its own database
    python deploy/bench/run.py all                  # the four, one after the other

Each prints its table and appends it, dated and with the machine, to deploy/bench/RESULTS.md.
The dashboard benchmark gets a database of its own (`fieldline_reports`, created on the stack's
PostgreSQL if missing), so its million sales never mix with the other benchmarks' data.
"""

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402  (a sibling script)

SCRIPTS = {"inbound": "inbound.py", "outbound": "outbound.py", "api": "api.py", "reports": "reports_bench.py"}
REPORTS_DATABASE = "fieldline_reports"


def reports_env() -> dict[str, str]:
    """The stack's settings, with DATABASE_URL pointing at the reports benchmark's own database."""
    import psycopg

    base = os.environ["DATABASE_URL"]
    with psycopg.connect(base.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [REPORTS_DATABASE]).fetchone()
        if not exists:
            connection.execute(f"CREATE DATABASE {REPORTS_DATABASE}")
    return {**os.environ, "DATABASE_URL": base.rsplit("/", 1)[0] + "/" + REPORTS_DATABASE}


def run(name: str, args: list[str]) -> int:
    env = reports_env() if name == "reports" else dict(os.environ)
    print(f"== {name}", file=sys.stderr, flush=True)
    return subprocess.run([sys.executable, str(HERE / SCRIPTS[name]), *args], env=env, check=False).returncode


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in [*SCRIPTS, "all"]:
        sys.exit(__doc__)
    common.load_stack_env()
    name, args = sys.argv[1], sys.argv[2:]
    names = list(SCRIPTS) if name == "all" else [name]
    failed = [n for n in names if run(n, args if name != "all" else []) != 0]
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
