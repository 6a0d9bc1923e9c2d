"""Full-text search on PostgreSQL: a weighted tsvector kept current by the database, with a GIN index.

A generated column needs no application code to stay up to date. On SQLite (the embedded run) the
migration does nothing and search falls back to plain matching.
"""

from django.db import migrations

FORWARD = """
ALTER TABLE studies_study ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
    setweight(to_tsvector('english', coalesce(authors::text, '')), 'B') ||
    setweight(to_tsvector('english', coalesce(venue, '')), 'C') ||
    setweight(to_tsvector('english', coalesce(abstract, '')), 'C')
) STORED;
CREATE INDEX study_search_vector_gin ON studies_study USING gin (search_vector);
"""
BACKWARD = "DROP INDEX IF EXISTS study_search_vector_gin; ALTER TABLE studies_study DROP COLUMN IF EXISTS search_vector;"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("studies", "0004_study_validators")]
    operations = [migrations.RunPython(forward, backward)]
