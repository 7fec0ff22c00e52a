"""X-Request-Id: one id per request, on the response, on log lines and on audit entries."""

from __future__ import annotations

import logging

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from config.request_context import RequestIdFilter, RequestIdMiddleware, request_id
from hub.audit import audit_record
from hub.models import AuditEntry


def test_each_response_carries_a_fresh_request_id(client):
    first = client.get("/-/healthy")["X-Request-Id"]
    second = client.get("/v2/")["X-Request-Id"]
    assert len(first) == 32 and first != second


def test_a_proxy_id_is_kept_and_a_forged_one_replaced(client):
    assert client.get("/-/healthy", HTTP_X_REQUEST_ID="nginx-0123456789ab")["X-Request-Id"] == (
        "nginx-0123456789ab"
    )
    forged = client.get("/-/healthy", HTTP_X_REQUEST_ID="x\r\nSet-Cookie: a=b <script>")
    assert forged["X-Request-Id"] != "x\r\nSet-Cookie: a=b <script>"
    assert len(forged["X-Request-Id"]) == 32


def test_the_id_is_gone_once_the_request_ends(client):
    client.get("/-/healthy")
    assert request_id() == ""


@pytest.mark.django_db
def test_log_lines_and_audit_entries_carry_the_id(caplog):
    def view(request):
        logging.getLogger("dockyard.test").warning("inside")
        audit_record(action="test.probe", target="x", request=request)
        return HttpResponse("ok")

    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(RequestIdFilter())
    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="trace-abcdef012345")
    response = RequestIdMiddleware(view)(request)
    assert response["X-Request-Id"] == "trace-abcdef012345"
    (line,) = [r for r in caplog.records if r.name == "dockyard.test"]
    assert line.request_id == "trace-abcdef012345"
    assert AuditEntry.objects.get(action="test.probe").request_id == "trace-abcdef012345"
    logging.getLogger("dockyard.test").warning("after")
    assert caplog.records[-1].request_id == "-"
