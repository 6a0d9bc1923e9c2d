"""Benchmark: confirming an import of a 10,000-record RIS file (target: a few seconds).

Uses the file and the database of benchmarks/import_preview.py (its own database, never the
app's). Every write happens in a transaction that is rolled back, so the script can be rerun.
Prints the commit's wall time (and how much of it is the preview it repeats), its query count,
peak memory, and the ratio to a floor: a plain bulk INSERT of the same draft rows (no history, no
duplicate check, no tiers). --per-row also times the old way, one save() per draft.

    .venv/bin/python benchmarks/import_commit.py
    .venv/bin/python benchmarks/import_commit.py --records 10000 --per-row
"""

import argparse
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench import django_on  # noqa: E402

TARGET_SECONDS = 5.0


def vacuum(connection) -> None:
    """Clear what a rolled-back run left behind (dead rows, the GIN index's pending list), so
    that each timed step starts from the same clean table instead of paying for the last one."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE studies_study")
            cursor.execute("VACUUM ANALYZE studies_historicalstudy")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--existing", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-row", action="store_true", help="Also time one save() per draft.")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = args.database_url or "postgres://postgres@127.0.0.1:5432/evidence_bench_import"
    django_on(url)
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from import_preview import ensure_existing, write_file

    from studies.imports import _draft, _source_note, import_commit, import_preview
    from studies.models import Study

    existing = ensure_existing(args.existing)
    with tempfile.TemporaryDirectory() as directory:
        data = write_file(Path(directory), args.records, args.seed).read_bytes()
    print(f"database: {url} ({existing} existing studies to collide with)")
    print(f"file: {args.records} RIS records, {len(data) / 1_048_576:.1f} MB")

    start = time.perf_counter()
    preview = import_preview(data=data, filename="bench.ris")
    preview_seconds = time.perf_counter() - start
    note = _source_note("bench.ris", "RIS")

    vacuum(connection)
    with transaction.atomic():
        drafts = [_draft(row, note=note, author=None) for row in preview.new]
        start = time.perf_counter()
        Study.objects.bulk_create(drafts, batch_size=2000)
        floor = time.perf_counter() - start
        transaction.set_rollback(True)
    print(f"floor: a plain bulk INSERT of the {len(drafts)} drafts: {floor:.2f} s")

    vacuum(connection)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        result = import_commit(data=data, filename="bench.ris")
        seconds = time.perf_counter() - start
        transaction.set_rollback(True)
    verdict = "OK" if seconds < TARGET_SECONDS else "TOO SLOW"
    print(
        f"commit: {result.created} drafts (+ history rows) in {seconds:.2f} s "
        f"(target < {TARGET_SECONDS:.0f} s: {verdict}); {len(queries)} queries"
    )
    print(
        f"  of which the preview it repeats: {preview_seconds:.2f} s; the writes: "
        f"{seconds - preview_seconds:.2f} s = {(seconds - preview_seconds) / floor:.1f}x the floor"
    )

    # Memory on a second run: tracemalloc slows Python down, so it is not timed.
    vacuum(connection)
    tracemalloc.start()
    with transaction.atomic():
        import_commit(data=data, filename="bench.ris")
        transaction.set_rollback(True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak memory: {peak / 1_048_576:.0f} MB allocated by the commit (tracemalloc)")

    if args.per_row:
        vacuum(connection)
        with transaction.atomic():
            start = time.perf_counter()
            for draft in [_draft(row, note=note, author=None) for row in preview.new]:
                draft.save()
            per_row = time.perf_counter() - start
            transaction.set_rollback(True)
        print(f"the old way, one save() per draft (with its history row): {per_row:.2f} s")


if __name__ == "__main__":
    main()
