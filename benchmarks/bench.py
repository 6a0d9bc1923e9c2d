"""What every benchmark does first: its own database, Django on it, and the synthetic evidence base.

Benchmarks run as scripts (``.venv/bin/python benchmarks/<name>.py``), so they import this module
by name from their own folder.
"""

import os
import random
import resource
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def ensure_database(url: str) -> None:
    """Create the benchmark's PostgreSQL database if it does not exist yet."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def django_on(url: str) -> None:
    """Set Django up on this database (created if need be, migrated), Celery eager."""
    if url.startswith("postgres"):
        ensure_database(url)
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="true",
        CELERY_TASK_ALWAYS_EAGER="true",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def synthetic_base(*, studies: int, effects_per_study: float, seed: int) -> None:
    """The LEAP framework and at least ``studies`` synthetic studies (generated if fewer)."""
    from frameworks.services import DATA_DIR, framework_load, read_data_file
    from studies.models import Study
    from studies.synthetic import synthetic_generate

    framework_load(data=read_data_file(DATA_DIR / "leap-2017.json"), counts=Counter())
    have = Study.objects.count()
    if have < studies:
        start = time.perf_counter()
        counts = synthetic_generate(
            studies=studies - have, effects_per_study=effects_per_study, seed=seed
        )
        print(f"generated {dict(counts)} in {time.perf_counter() - start:.1f} s")


def researcher_token(username: str) -> str:
    """A researcher account (the role is a group, as in tests/conftest.py) and its API token."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from studies import roles

    user, _ = get_user_model().objects.get_or_create(username=username)
    user.groups.add(Group.objects.get_or_create(name=roles.RESEARCHER)[0])
    return Token.objects.get_or_create(user=user)[0].key


def code_vocabularies(seed: int) -> int:
    """Give synthetic studies grade bands (~80%), populations (~30%) and settings (~50%), once."""
    from studies.models import GradeBand, Population, Setting, Study

    through = {
        "grade_bands": (Study.grade_bands.through, "gradeband_id", GradeBand, 0.8),
        "populations": (Study.populations.through, "population_id", Population, 0.3),
        "settings": (Study.settings.through, "setting_id", Setting, 0.5),
    }
    if Study.grade_bands.through.objects.exists():
        return 0
    rng = random.Random(seed)
    study_ids = list(Study.objects.values_list("id", flat=True))
    created = 0
    for model, column, vocabulary, share in through.values():
        terms = list(vocabulary.objects.values_list("id", flat=True))
        rows = [
            model(study_id=pk, **{column: term})
            for pk in study_ids
            if rng.random() < share
            for term in rng.sample(terms, rng.choice([1, 1, 2]))
        ]
        model.objects.bulk_create(rows, batch_size=10000)
        created += len(rows)
    return created


def peak_mb() -> float:
    """Peak resident memory of this process, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def print_machine() -> None:
    """The footer every benchmark prints: the load it ran under and the machine it ran on."""
    from django.db import connection

    print(f"load average while measuring: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"PostgreSQL {connection.pg_version}"
    )
