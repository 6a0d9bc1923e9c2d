"""Fill a database of its own with a synthetic evidence base (for benchmarks and load tests)."""

from django.core.management.base import BaseCommand, CommandError

from studies.synthetic import RealDataPresent, synthetic_generate


class Command(BaseCommand):
    help = "Generate N synthetic studies with effects and tags (reproducible by --seed)."

    def add_arguments(self, parser):
        parser.add_argument("--studies", type=int, required=True)
        parser.add_argument("--effects-per-study", type=float, default=3.0)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, studies, effects_per_study, seed, **options):
        try:
            counts = synthetic_generate(
                studies=studies, effects_per_study=effects_per_study, seed=seed
            )
        except RealDataPresent as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(", ".join(f"{n} {k}" for k, n in counts.items()))
