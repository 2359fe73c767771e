"""Logs carry ids, never patient text: logged tracebacks keep frames, not messages."""

import io
import logging

import pytest
from django.conf import settings

from elmtex_site.logs import IdsOnlyFormatter


def _formatter() -> logging.Formatter:
    config = settings.LOGGING["formatters"]["plain"]
    assert config["()"] == "elmtex_site.logs.IdsOnlyFormatter"
    return IdsOnlyFormatter(config["format"])


def test_logged_traceback_withholds_exception_messages():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_formatter())
    logger = logging.getLogger("tests.logs")
    logger.addHandler(handler)
    report = "report: 45-year-old woman with fever"
    try:
        try:
            raise ValueError(report)
        except ValueError as exc:
            raise KeyError(report) from exc
    except KeyError:
        logger.exception("import %s failed", 17)
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "import 17 failed" in text
    assert "builtins.ValueError" in text and "builtins.KeyError" in text
    assert "test_logged_traceback_withholds_exception_messages" in text  # frames stay
    assert "45-year-old" not in text


@pytest.mark.django_db
def test_server_error_log_holds_no_patient_text(client, monkeypatch, caplog):
    """A 500 in a page is logged by django.request through the same formatter."""
    from annotation import views

    def broken(**kwargs):
        secret = "Case 9: a 45-year-old woman"
        raise RuntimeError(secret)

    monkeypatch.setattr(views, "projects_with_counts", broken)
    from tests.factories import UserFactory

    client.raise_request_exception = False
    client.force_login(UserFactory())
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/")
    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.content and b"45-year-old" not in response.content
    [record] = [r for r in caplog.records if r.name == "django.request"]
    formatted = _formatter().format(record)
    assert "builtins.RuntimeError" in formatted and "45-year-old" not in formatted


def test_celery_task_failure_lines_keep_the_exception_type_but_not_its_message():
    import io
    import logging

    from celery.app.trace import LOG_FAILURE

    from elmtex_site.logs import celery_logging_redact

    stream = io.StringIO()
    target = logging.getLogger("elmtex-test-worker-root")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    target.addHandler(handler)
    trace_logger = logging.getLogger("celery.app.trace")
    old_filters = list(trace_logger.filters)
    trace_logger.addHandler(handler)
    try:
        celery_logging_redact(target)  # what the after_setup_logger signal does in a worker
        report = "Patient Jane Doe, 45, metastatic carcinoma"  # the traceback shows source lines
        try:
            raise ValueError(report)
        except ValueError as exc:
            context = {"hostname": "w1", "id": "abc", "name": "inference.run_process_batch", "exc": repr(exc)}
            context |= {
                "traceback": "secret",
                "args": "(7, [1, 2])",
                "kwargs": "{}",
                "description": "raised unexpected",
            }
            trace_logger.error(LOG_FAILURE.strip(), context, exc_info=True)
    finally:
        trace_logger.removeHandler(handler)
        trace_logger.filters[:] = old_filters
        target.removeHandler(handler)
    text = stream.getvalue()
    assert "inference.run_process_batch[abc] raised unexpected: ValueError (message withheld" in text
    assert "Jane Doe" not in text and "carcinoma" not in text
    assert "Traceback (most recent call last)" in text
