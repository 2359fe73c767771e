"""Helpers shared by the run API, page and admin tests (H3b's tests)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tests.factories import CandidateFactory, DocumentFactory, EndpointFactory, RunFactory, UserFactory

ROLES = ["researcher", "reviewer", "annotator", "outsider", "staff"]
# Candidates per status of the ``run`` fixture (conftest.py).
MIXED = {"ok": 5, "parse_error": 2, "too_long": 1, "failed": 3, "pending": 4}

CONFIG = {
    "strategy": "naive",
    "keys": ["diagnosis"],
    "prompt_template": {"version": "naive-v1", "system": "Extract the fields.\nAnswer with JSON only."},
    "output_schema": {"type": "object", "properties": {"diagnosis": {"type": "string"}}},
    "generation": {"max_new_tokens": 2048, "seed": 1234, "temperature": 0.0},
    "endpoint": {
        "name": "tgi-a",
        "url": "http://127.0.0.1:9",
        "mode": "chat",
        "model_id": "org/llama-test",
        "info": {"model_id": "org/llama-test", "model_sha": "abc123sha"},
    },
    "platform_version": "9.9.9",
    "selection": {"language": None, "split": None, "limit": None},
}


def make_people(researcher, reviewer, annotator, outsider) -> dict:
    return {
        "researcher": researcher,
        "reviewer": reviewer,
        "annotator": annotator,
        "outsider": outsider,
        "staff": UserFactory(username="admin", is_staff=True),
    }


def run_with_candidates(project, counts: dict[str, int], *, tokens: tuple[int, int] | None = (100, 20), **run_kwargs):
    """A run of ``project`` with ``counts[status]`` candidates of each status, each on a
    document of its own (patient ids continue across calls)."""
    now = timezone.now()
    if "endpoint" not in run_kwargs:
        run_kwargs["endpoint"] = EndpointFactory()
    run_kwargs.setdefault("config", CONFIG)
    run_kwargs.setdefault("started_at", now - timedelta(seconds=100))
    if run_kwargs.get("status", "finished") in ("finished", "failed", "cancelled"):
        run_kwargs.setdefault("finished_at", now - timedelta(seconds=50))
    run = RunFactory(project=project, total=sum(counts.values()), **run_kwargs)
    for status, n in counts.items():
        for _ in range(n):
            done = status != "pending"
            CandidateFactory(
                run=run,
                document=DocumentFactory(project=project),
                status=status,
                values=None if status != "ok" else {"diagnosis": "flu"},
                raw_output="" if not done else '{"diagnosis": "flu"}',
                error="boom: HTTP 500" if status == "failed" else "",
                attempts=1 if done else 0,
                latency_ms=50 if done else None,
                prompt_tokens=tokens[0] if done and tokens else None,
                generated_tokens=tokens[1] if done and tokens else None,
            )
    return run
