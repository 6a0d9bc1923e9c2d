"""`make demo` sets up a fresh embedded SQLite database: migrate, seed, evidence, a served page.

The rest of the suite runs on PostgreSQL, so this is what keeps the README's first command working
on SQLite (it once broke on an index SQLite cannot express).
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_demo_setup_migrates_seeds_and_serves_a_fresh_sqlite_database(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "CELERY_TASK_ALWAYS_EAGER": "true",
    }
    _manage("migrate", "--noinput", env=env)
    assert "198 rows created or updated" in _manage("load_seed_data", env=env)
    page = _manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.test import Client; "
        "r = Client().get('/elements/LL.3/', HTTP_HOST='localhost'); print(r.status_code); print(r.content.decode())",
        env=env,
    )
    status, _, html = page.partition("\n")
    assert status == "200"
    assert "Learner Led" in html
    assert "Pane" in html or "RAND" in html  # a seed study cited for LL.3 is listed
