"""Benchmark: previewing a 10,000-record RIS file (target: under 30 seconds).

Writes a realistic RIS export (3-8 authors, a 150-word abstract, keywords, DOIs on most records,
a few in-file repeats and records without a year) to a temporary directory, puts studies that
some records duplicate into a database of its own (never the app's), then prints the preview's
wall time, its query count, and peak memory (Python allocations traced, and the process's RSS).

    .venv/bin/python benchmarks/import_preview.py
    .venv/bin/python benchmarks/import_preview.py --records 10000 --commit
    .venv/bin/python benchmarks/import_preview.py --database-url sqlite:////tmp/import-bench.sqlite3
"""

import argparse
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench import django_on  # noqa: E402

TARGET_SECONDS = 30.0
WORDS = [
    "students",
    "teachers",
    "learning",
    "personalized",
    "adaptive",
    "mastery",
    "feedback",
    "goals",
    "pacing",
    "playlist",
    "tutoring",
    "assessment",
    "classroom",
    "school",
    "district",
    "achievement",
    "mathematics",
    "reading",
    "engagement",
    "agency",
    "choice",
    "competency",
    "evidence",
    "trial",
    "effect",
    "outcomes",
    "growth",
    "instruction",
]


def ris_record(rng: random.Random, n: int) -> str:
    authors = [
        f"AU  - {rng.choice(WORDS).title()}{n % 97}, {rng.choice('ABCDEFGHJKLMNPRST')}."
        for _ in range(rng.randint(3, 8))
    ]
    lines = [
        "TY  - JOUR",
        f"TI  - {' '.join(rng.choices(WORDS, k=9)).capitalize()} (study {n})",
        *authors,
        f"T2  - Journal of {rng.choice(WORDS).title()} Research",
        f"AB  - {' '.join(rng.choices(WORDS, k=150))}",
        # About 1% are in press, with no year anywhere: errors in the preview.
        f"PY  - {rng.randint(1995, 2024)}" if n % 100 != 7 else "PY  - in press",
        f"DA  - {rng.randint(1995, 2024)}/{rng.randint(1, 12):02d}/01/" if n % 100 != 7 else "",
        f"VL  - {rng.randint(1, 80)}",
        f"IS  - {rng.randint(1, 6)}",
        f"SP  - {rng.randint(1, 400)}",
        f"EP  - {rng.randint(401, 800)}",
        *(f"KW  - {word}" for word in rng.sample(WORDS, 4)),
    ]
    if n % 5:
        lines.append(f"DO  - https://doi.org/10.5555/BENCH.{n}")
    lines.append("ER  - ")
    return "\n".join(line for line in lines if line)


def write_file(directory: Path, records: int, seed: int) -> Path:
    rng = random.Random(seed)
    texts = [ris_record(rng, n) for n in range(records)]
    # About 1% of records are repeats of an earlier one, as in a merged export.
    for n in range(50, records, 100):
        texts[n] = texts[n - 50]
    path = directory / "bench.ris"
    path.write_text("\n\n".join(texts) + "\n", encoding="utf-8")
    return path


def ensure_existing(count: int) -> int:
    """Studies that records 0, 5, 10 ... of the file duplicate by DOI (created once)."""
    from studies.identifiers import normalize_title
    from studies.models import Study

    existing = Study.objects.filter(source_note="import benchmark")
    if existing.count() >= count:
        return existing.count()
    existing.delete()
    rows = []
    for n in range(1, count + 1):
        title = f"Existing benchmark study {n}"
        rows.append(
            Study(
                title=title,
                title_key=normalize_title(title),
                year=2015,
                doi=f"10.5555/bench.{n * 5 + 1}",
                source_note="import benchmark",
                is_synthetic=True,
            )
        )
    Study.objects.bulk_create(rows, batch_size=5000)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--existing", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--commit", action="store_true", help="Also time the commit (rolled back).")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = args.database_url or "postgres://postgres@127.0.0.1:5432/evidence_bench_import"
    django_on(url)
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from studies.imports import import_commit, import_preview

    existing = ensure_existing(args.existing)
    with tempfile.TemporaryDirectory() as directory:
        path = write_file(Path(directory), args.records, args.seed)
        data = path.read_bytes()
    print(f"database: {url} ({existing} existing studies to collide with)")
    print(f"file: {args.records} RIS records, {len(data) / 1_048_576:.1f} MB")

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        preview = import_preview(data=data, filename="bench.ris")
        seconds = time.perf_counter() - start
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"preview: {len(preview.new)} new, {len(preview.duplicates)} duplicates, "
        f"{len(preview.errors)} errors"
    )
    verdict = "OK" if seconds < TARGET_SECONDS else "TOO SLOW"
    print(f"preview time: {seconds:.2f} s (target < {TARGET_SECONDS:.0f} s: {verdict})")
    print(f"preview queries: {len(queries)}")
    del preview

    tracemalloc.start()
    import_preview(data=data, filename="bench.ris")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak memory: {peak / 1_048_576:.0f} MB allocated by the preview (tracemalloc)")
    print(f"process peak RSS: {rss_after:.0f} MB (before the preview: {rss_before:.0f} MB)")

    if args.commit:
        with transaction.atomic():
            start = time.perf_counter()
            result = import_commit(data=data, filename="bench.ris")
            print(f"commit: {result.created} drafts in {time.perf_counter() - start:.2f} s")
            transaction.set_rollback(True)


if __name__ == "__main__":
    main()
