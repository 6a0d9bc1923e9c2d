"""Load the seed data (framework, studies, convenings) from the repo's data files; safe to rerun."""

import json
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from convenings.services import seed_convenings_load
from evidence.services import evidence_recompute_all
from frameworks.models import Element
from frameworks.services import framework_load, highlights_link, read_data_file
from studies.services import seed_studies_load, vocabularies_ensure

BASE = Path(settings.BASE_DIR)
FRAMEWORK_FILES = sorted((BASE / "frameworks" / "data").glob("*.json"))
STUDIES_FILE = BASE / "studies" / "data" / "seed-studies.json"
CONVENINGS_FILE = BASE / "convenings" / "data" / "seed-convenings.json"


class Command(BaseCommand):
    help = "Load the LEAP framework, the studies it cites and the convenings (idempotent upsert)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print the counts as JSON.")

    def handle(self, *args, **options):
        counts: Counter = Counter()
        vocabularies_ensure(counts=counts)
        frameworks = [
            (framework_load(data=d, counts=counts), d) for d in map(read_data_file, FRAMEWORK_FILES)
        ]
        studies_by_key = seed_studies_load(records=read_data_file(STUDIES_FILE), counts=counts)
        for framework, data in frameworks:
            highlights_link(
                framework=framework, data=data, studies_by_key=studies_by_key, counts=counts
            )
        seed_convenings_load(
            data=read_data_file(CONVENINGS_FILE), studies_by_key=studies_by_key, counts=counts
        )
        changed = sum(n for key, n in counts.items() if not key.endswith("unchanged"))
        # Summaries are derived data: recompute when the seed changed anything or some are missing.
        missing = Element.objects.exclude(evidence_summaries__isnull=False).exists()
        if changed or missing:
            evidence_recompute_all()
        if options["json"]:
            self.stdout.write(json.dumps({"changed": changed, **dict(sorted(counts.items()))}))
            return
        for key, n in sorted(counts.items()):
            self.stdout.write(f"  {key}: {n}")
        self.stdout.write(
            self.style.SUCCESS(f"Seed data loaded: {changed} rows created or updated.")
        )
