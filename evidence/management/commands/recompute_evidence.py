"""Recompute the stored evidence summaries now, for every element or one, with a progress bar."""

from django.core.management.base import BaseCommand, CommandError

from evidence.services import (
    element_evidence_recompute,
    evidence_recompute_all,
    study_tiers_refresh,
)
from frameworks.models import Element


class Command(BaseCommand):
    help = "Recompute evidence summaries (all elements, or one with --element CODE)."

    def add_arguments(self, parser):
        parser.add_argument("--element", metavar="CODE", help="Only this element, e.g. LL.3.")

    def handle(self, *args, element=None, **options):
        if element:
            target = Element.objects.current().filter(code=element).first()
            if target is None:
                raise CommandError(f"Unknown element code: {element}")
            study_tiers_refresh(study_ids=target.study_tags.values_list("study_id", flat=True))
            summary = element_evidence_recompute(element_id=target.pk)
            self.stdout.write(
                f"{target.code}: {summary.get_rating_display()} ({summary.k_studies} studies)"
            )
            return
        evidence_recompute_all(progress=self._progress)
        self.stdout.write(self.style.SUCCESS("Evidence recomputed."))

    def _progress(self, done: int, total: int, element: Element) -> None:
        width = 30
        filled = width * done // total
        bar = "#" * filled + "-" * (width - filled)
        self.stdout.write(
            f"\r[{bar}] {done}/{total} {element.code:<6}", ending="" if done < total else "\n"
        )
        self.stdout.flush()
