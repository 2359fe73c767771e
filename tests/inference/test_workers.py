"""The worker check behind --wait: a broker that is not there is one clear error."""

import pytest

from elmtex_site.errors import ApplicationError
from inference import workers
from inference.workers import workers_answering
from tests.inference.test_endpoints import closed_port_url


def test_broker_not_answering_is_named_without_its_password(monkeypatch):
    port = closed_port_url().rsplit(":", 1)[1]
    monkeypatch.setattr(workers, "broker_url", lambda: f"redis://:s3cret@127.0.0.1:{port}/3")
    with pytest.raises(ApplicationError) as exc:
        workers_answering(timeout=0.5)
    message = exc.value.message
    assert f"127.0.0.1:{port}" in message
    assert "s3cret" not in message
    assert "redis-server" in message and "celery -A elmtex_site worker" in message
