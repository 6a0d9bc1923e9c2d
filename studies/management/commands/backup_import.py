"""Restore studies from a backup_export file; studies already present are skipped."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from studies.services import BackupError, studies_backup_restore


class Command(BaseCommand):
    help = (
        "Restore studies, effects, tags, convenings and findings from a backup_export JSON file "
        "(all or nothing)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The JSON file written by backup_export.")

    def handle(self, *args, path: str, **options):
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        try:
            counts = studies_backup_restore(data=data)
        except BackupError as exc:
            raise CommandError(f"Nothing restored. {exc}") from exc
        summary = ", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or "nothing"
        self.stdout.write(f"Restored from {path}: {summary}.")
