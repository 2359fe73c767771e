"""The Celery app: a plain `celery -A elmtex_site worker` consumes every queue (CLI.md)."""

from elmtex_site.celery import app


def test_a_worker_without_q_consumes_every_queue():
    # A worker started without -Q subscribes to app.amqp.queues (the declared task_queues).
    assert sorted(app.amqp.queues) == ["evaluation", "gpu", "inference"]


def test_tasks_are_routed_to_their_queues():
    app.loader.import_default_modules()
    assert app.tasks["inference.run_process_batch"].queue == "inference"
    assert app.tasks["inference.run_start"].queue == "inference"
    assert app.tasks["evaluation.evaluate"].queue == "evaluation"
