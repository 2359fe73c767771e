"""A covering index for the per-run candidate figures of the model comparison (not
parsed, latency, tokens): PostgreSQL answers them from the index alone. PostgreSQL only
(SQLite has no INCLUDE); elsewhere nothing is done."""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS candidate_run_stats ON inference_candidate (run_id) "
    "INCLUDE (status, latency_ms, prompt_tokens, generated_tokens, document_id)"
)
DROP = "DROP INDEX IF EXISTS candidate_run_stats"


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("inference", "0002_candidate_examples_endpoint_tokenizer")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
