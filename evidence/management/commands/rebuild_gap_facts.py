"""Re-derive the gap report's facts of every study (or, with --check, only say whether they are exact)."""

from django.core.management.base import BaseCommand, CommandError

from evidence.gaps.facts import gap_facts_rebuild, gap_facts_stale


class Command(BaseCommand):
    help = "Rebuild the gap report's per-study facts from tags, effects and vocabularies."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Change nothing; fail if the facts are stale."
        )

    def handle(self, *args, check=False, **options):
        if check:
            extra, missing = gap_facts_stale()
            if extra or missing:
                raise CommandError(
                    f"Gap report facts are stale: {len(extra)} extra, {len(missing)} missing rows."
                )
            self.stdout.write("Gap report facts are exact.")
            return
        self.stdout.write(f"Rebuilt {gap_facts_rebuild()} gap report facts.")
