"""Rate limits hold across app instances when they share Redis (REDIS_URL),
as gunicorn's workers do: a limit used up through one instance is still used
up in a brand-new one. Skipped where no Redis answers on 127.0.0.1:6379."""

import socket
import uuid

import pytest

from tests.conftest import second_app

REDIS = "redis://127.0.0.1:6379/15"


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _redis_answers(), reason="no Redis on 127.0.0.1:6379")


def test_a_limit_used_up_in_one_instance_holds_in_another(app, monkeypatch):
    monkeypatch.setenv("REDIS_URL", REDIS)
    settings = {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",  # this run only
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
    }
    body = {"phone": "13999999998", "password": "guess guess"}  # unknown: never locked
    with second_app(**settings) as first:
        assert first.config["RATELIMIT_STORAGE_URI"] == REDIS
        client = first.test_client()
        assert [client.post("/api/v1/auth/token", json=body).status_code for _ in range(10)] == [401] * 10
    with second_app(**settings) as second:  # a fresh process's worth of limiter state
        answer = second.test_client().post("/api/v1/auth/token", json=body)
        assert answer.status_code == 429
        assert answer.get_json()["error"]["code"] == "too_many_requests"
    with second_app(**{**settings, "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}"}) as other:
        # Another key prefix counts from zero: the 429 above came from the shared count.
        assert other.test_client().post("/api/v1/auth/token", json=body).status_code == 401
