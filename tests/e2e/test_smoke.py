"""`make run` on a fresh data directory serves the portal, the admin and the registry."""

from __future__ import annotations

import signal

import requests

from tests.e2e.server import ROOT, Server


def test_make_run_serves_portal_admin_and_registry_with_no_services(tmp_path):
    env = {"DATABASE_URL": "", "REDIS_URL": "", "CELERY_BROKER_URL": ""}
    server = Server(tmp_path / "data", env=env)
    server.start(["make", "-s", "-C", str(ROOT), "run"])
    try:
        home = requests.get(server.url + "/", timeout=10)
        assert home.status_code == 200
        assert "Sign in" in home.text
        assert requests.get(server.url + "/admin/login/", timeout=10).status_code == 200
        base = requests.get(server.url + "/v2/", timeout=10)
        assert base.headers["Docker-Distribution-API-Version"] == "registry/2.0"
        assert (tmp_path / "data" / "db.sqlite3").exists()
        assert (tmp_path / "data" / "token_signing_key.pem").exists()
        assert "gunicorn" in server.log().lower() or "Dockyard on" in server.log()
    finally:
        code = server.stop(signal.SIGINT)
    assert code is not None
    log = server.log()
    assert "Traceback" not in log, log


def test_two_instances_run_side_by_side(server, tmp_path):
    other = Server(tmp_path / "second", env={"DATABASE_URL": "", "REDIS_URL": ""}).start()
    try:
        assert other.port != server.port
        assert requests.get(other.url + "/", timeout=10).status_code == 200
        assert requests.get(server.url + "/", timeout=10).status_code == 200
    finally:
        other.stop()
