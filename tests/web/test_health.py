from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.web.app import create_app


class _FakeRasaAndActions(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/status"):
            body = {"model_file": "assistant.tar.gz", "num_active_training_jobs": 0}
        elif self.path.startswith("/health"):
            body = {"status": "ok"}
        else:
            self.send_response(404)
            self.end_headers()
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_backends() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeRasaAndActions)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_healthz_is_ok_when_database_rasa_and_actions_answer(tmp_path, fake_backends):
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'h.db'}", rasa_url=fake_backends, action_server_url=fake_backends
    )
    with TestClient(create_app(settings)) as client:
        resp = client.get("/healthz")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "ok"
    assert body["checks"]["rasa"]["model"] == "assistant.tar.gz"


def test_healthz_reports_which_process_is_down(tmp_path, fake_backends):
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'h.db'}",
        rasa_url="http://127.0.0.1:9",  # nothing listens on the discard port
        action_server_url=fake_backends,
    )
    with TestClient(create_app(settings)) as client:
        resp = client.get("/healthz")
    assert resp.status_code == 503
    checks = resp.json()["checks"]
    assert checks["rasa"]["ok"] is False
    assert checks["action_server"]["ok"] is True
    assert checks["database"]["ok"] is True


def test_openapi_docs_are_served(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}")
    with TestClient(create_app(settings)) as client:
        docs = client.get("/docs")
        assert docs.status_code == 200
        # Swagger UI is served from the app itself: no CDN is reachable at run time.
        assert "cdn" not in docs.text.lower()
        assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
        assert "/healthz" in client.get("/openapi.json").json()["paths"]
