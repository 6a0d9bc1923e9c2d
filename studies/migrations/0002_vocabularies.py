"""Load the controlled vocabularies (studies.constants) as data rows."""

from django.db import migrations

from studies import constants

VOCABULARIES = {
    "GradeBand": constants.GRADE_BANDS,
    "Population": constants.POPULATIONS,
    "Subject": constants.SUBJECTS,
    "Setting": constants.SETTINGS,
}


def load(apps, schema_editor):
    for model_name, terms in VOCABULARIES.items():
        model = apps.get_model("studies", model_name)
        for order, (code, label) in enumerate(terms, start=1):
            model.objects.update_or_create(code=code, defaults={"label": label, "order": order})


class Migration(migrations.Migration):
    dependencies = [("studies", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
