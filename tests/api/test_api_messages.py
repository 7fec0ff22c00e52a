"""API answers a client can act on: JSON 404s for unknown paths, refusals naming the scope."""

from __future__ import annotations

from tests.api.conftest import API


def test_unknown_api_paths_answer_json_404(api, as_user, alice):
    for client in (api, as_user(alice)):
        for path in (f"{API}/no-such-thing/", f"{API}/no/such/thing", f"{API}/repositories/x/"):
            response = client.get(path)
            assert response.status_code == 404, path
            assert response["Content-Type"].startswith("application/json"), path
            assert response.json() == {"detail": "Not found."}


def test_a_refusal_caused_by_the_token_scope_names_the_scope(as_token, alice, public_repo):
    response = as_token(alice, "repo:read").patch(
        f"{API}/repositories/alice/app/", {"description": "x"}, format="json"
    )
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert "repo:read" in detail and "repo:admin" in detail


def test_a_refusal_caused_by_the_role_does_not_blame_the_scope(as_token, bob, public_repo):
    response = as_token(bob, "repo:admin").patch(
        f"{API}/repositories/alice/app/", {"description": "x"}, format="json"
    )
    assert response.status_code == 403 and "scope" not in response.json()["detail"]
