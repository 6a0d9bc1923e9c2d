"""Import a RIS, BibTeX or CSV file of references as draft studies (the API's import, for scripts)."""

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from studies.imports import (
    FORMAT_LABELS,
    ImportFailed,
    ImportRefused,
    import_check_size,
    import_commit,
)


class Command(BaseCommand):
    help = (
        "Import references from a RIS, BibTeX or CSV export: new records become drafts, all or "
        "none; duplicates (same DOI, else same title and year) and records with errors are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The export file.")
        parser.add_argument(
            "--format", choices=list(FORMAT_LABELS), help="Default: from the extension and content."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would happen; create nothing."
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print the result as JSON."
        )
        parser.add_argument("--user", help="Username of the researcher who will own the drafts.")

    def handle(self, *args, path, format, dry_run, as_json, user, **options):
        owner = self._user(user)
        source = Path(path)
        if not source.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            import_check_size(source.stat().st_size)
            result = import_commit(
                data=source.read_bytes(),
                user=owner,
                filename=source.name,
                format=format,
                dry_run=dry_run,
            )
        except (ImportRefused, ImportFailed) as exc:
            raise CommandError(str(exc)) from exc
        if as_json:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
            return
        verb = "would create" if dry_run else "created"
        count = result.new if dry_run else result.created
        self.stdout.write(
            f"{source.name} ({result.preview.format_label}): {len(result.rows)} records; "
            f"{verb} {count} draft stud{'y' if count == 1 else 'ies'}, "
            f"skipped {result.duplicates} duplicate{'' if result.duplicates == 1 else 's'} "
            f"and {len(result.errors)} error{'' if len(result.errors) == 1 else 's'}."
        )
        for error in result.errors:
            self.stdout.write(f"line {error.line}: {error.message}")
        if options["verbosity"] > 1:
            for row in result.preview.duplicates:
                self.stdout.write(f"line {row.line}: {row.message}")

    def _user(self, username: str | None):
        if not username:
            return None
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"No user named {username!r}.") from exc
