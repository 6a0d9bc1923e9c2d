"""Write studies as RIS, BibTeX or CSV to standard output (what the list page's downloads give)."""

from django.core.management.base import BaseCommand

from studies import exports
from studies.constants import ReviewStatus
from studies.models import Study

WRITERS = {"ris": exports.to_ris, "bibtex": exports.to_bibtex, "csv": exports.to_csv}


class Command(BaseCommand):
    help = "Write every study (or those with one review status) as RIS, BibTeX or CSV to stdout."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=list(WRITERS), required=True)
        parser.add_argument("--status", choices=ReviewStatus.values, help="Default: every status.")

    def handle(self, *args, format, status, **options):
        studies = Study.objects.order_by("-year", "title", "pk")
        if status:
            studies = studies.filter(status=status)
        self.stdout.write(WRITERS[format](studies.iterator(chunk_size=2000)), ending="")
