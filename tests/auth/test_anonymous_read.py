"""ANONYMOUS_READ=false (the private profile): every read needs a signed-in user or a token, on
every surface: /v2/, the token service, the portal's pages, the REST API and `docker search`."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import URLResolver, get_resolver, reverse

from hub import permissions, selectors
from hub.registry_tokens import token_issue, token_verify
from tests.conftest import basic_auth
from tests.registry_api.conftest import image_push, pull_access

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in_reads(settings):
    settings.ANONYMOUS_READ = False


def _token(client, *scopes, auth=None) -> dict:
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    response = client.get("/auth/token", {"service": "dockyard", "scope": list(scopes)}, **headers)
    assert response.status_code == 200, response.content
    return response.json()


def _grants(client, *scopes, auth=None) -> list[list[str]]:
    return [
        entry["actions"]
        for entry in token_verify(_token(client, *scopes, auth=auth)["token"])["access"]
    ]


# The decision and the lists


def test_anonymous_holds_nothing_on_a_public_repository(signed_in_reads, public_repo, charlie):
    assert permissions.repository_access(None, "alice/app").actions == set()
    assert not permissions.can_view(None, public_repo)
    assert permissions.can_pull(charlie, public_repo)  # any signed-in user still reads it
    assert list(selectors.repository_list_visible(user=None)) == []
    assert list(selectors.repository_list_visible(user=charlie)) == [public_repo]


def test_the_public_profile_keeps_anonymous_reads(public_repo):
    assert permissions.repository_access(None, "alice/app").actions == {"pull"}
    assert list(selectors.repository_list_visible(user=None)) == [public_repo]


# The token service


def test_token_service_grants_anonymous_callers_nothing(
    client, signed_in_reads, public_repo, charlie
):
    assert _grants(client, "repository:alice/app:pull", "registry:catalog:*") == [[], []]
    authed = _grants(
        client, "repository:alice/app:pull", "registry:catalog:*", auth=basic_auth("charlie")
    )
    assert authed == [["pull"], ["*"]]


def test_token_service_public_profile_grants_anonymous_pull(client, public_repo):
    assert _grants(client, "repository:alice/app:pull", "registry:catalog:*") == [["pull"], ["*"]]


# /v2/


def _challenged(response) -> None:
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"].startswith('Bearer realm="http://testserver/auth/token"')
    assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"


def test_registry_reads_need_credentials(client, signed_in_reads, alice, public_repo, charlie):
    image_push(client, "alice/app", "latest")
    for path in (
        "/v2/",
        "/v2/_catalog",
        "/v2/alice/app/tags/list",
        "/v2/alice/app/manifests/latest",
        "/v2/alice/nothing/tags/list",
    ):
        _challenged(client.get(path))
    # Basic (curl -u) reads, as registry:2 with htpasswd.
    catalog = client.get("/v2/_catalog", HTTP_AUTHORIZATION=basic_auth("charlie"))
    assert catalog.status_code == 200 and catalog.json() == {"repositories": ["alice/app"]}
    tags = client.get("/v2/alice/app/tags/list", HTTP_AUTHORIZATION=basic_auth("charlie"))
    assert tags.json() == {"name": "alice/app", "tags": ["latest"]}


def test_an_anonymous_token_reads_nothing(client, signed_in_reads, public_repo, charlie):
    """A token issued to nobody (e.g. before the setting changed) with pull grants: refused."""
    image_push(client, "alice/app", "latest")
    access = [*pull_access("alice/app"), {"type": "registry", "name": "catalog", "actions": ["*"]}]
    token, _ = token_issue(subject="", audience="dockyard", access=access)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    for path in (
        "/v2/",
        "/v2/_catalog",
        "/v2/alice/app/tags/list",
        "/v2/alice/app/manifests/latest",
    ):
        _challenged(client.get(path, **headers))
    # The docker flow of a signed-in user still pulls.
    signed = _token(client, "repository:alice/app:pull", auth=basic_auth("charlie"))["token"]
    pulled = client.get("/v2/alice/app/manifests/latest", HTTP_AUTHORIZATION=f"Bearer {signed}")
    assert pulled.status_code == 200


def test_public_profile_pulls_anonymously(client, public_repo, alice):
    image_push(client, "alice/app", "latest")
    token = _token(client, "repository:alice/app:pull")["token"]
    tags = client.get("/v2/alice/app/tags/list", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert tags.status_code == 200


# Portal pages


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/search/?q=app",
        "/r/alice/app/",
        "/u/alice/",
        "/orgs/new/",
        "/no/such/page/",
        "/api/v1/docs/",
    ],
)
def test_anonymous_visitors_are_sent_to_sign_in(client, signed_in_reads, public_repo, path):
    response = client.get(path)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == "/accounts/login/" and parse_qs(location.query) == {"next": [path]}


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/login/",
        "/accounts/password_reset/",
        "/accounts/password_reset/done/",
        "/accounts/reset/done/",
        "/.well-known/jwks.json",
        "/v1/_ping",
        "/admin/login/",
    ],
)
def test_what_signing_in_needs_stays_open(client, signed_in_reads, path):
    assert client.get(path).status_code == 200


def test_language_switch_and_admin_stay_open(client, signed_in_reads):
    switched = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})
    assert switched.status_code == 302 and switched["Location"] == "/accounts/login/"
    admin = client.get("/admin/")
    assert admin.status_code == 302 and admin["Location"].startswith("/admin/login/")


def test_signed_in_users_see_pages(client, signed_in_reads, public_repo, charlie):
    client.force_login(charlie)
    assert client.get("/").status_code == 200
    assert client.get("/r/alice/app/").status_code == 200


def test_public_profile_pages_are_open(client, public_repo):
    assert client.get("/").status_code == 200
    assert client.get("/r/alice/app/").status_code == 200


# REST API


def _api_urls() -> list[str]:
    """One URL for every REST route (the schema included), every argument "1"."""
    urls = []

    def walk(patterns, namespace):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, entry.namespace or namespace)
            elif entry.name:
                pattern = entry.pattern
                names = getattr(pattern, "converters", None) or pattern.regex.groupindex
                name = f"{namespace}:{entry.name}" if namespace else entry.name
                urls.append(reverse(name, kwargs=dict.fromkeys(names, "1")))

    top = [entry for entry in get_resolver().url_patterns if str(entry.pattern).startswith("api/")]
    walk(top, None)
    return sorted({url for url in urls if "/docs/" not in url})


def test_every_api_route_is_walked():
    urls = _api_urls()
    assert "/api/v1/schema/" in urls and "/api/v1/repositories/" in urls
    assert any("/webhooks/" in url for url in urls) and any("proxy-caches" in url for url in urls)
    assert len(urls) > 25


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_every_api_endpoint_refuses_anonymous_callers(client, signed_in_reads, public_repo, method):
    for url in _api_urls():
        response = getattr(client, method)(url, HTTP_ACCEPT="application/json")
        assert response.status_code == 401, (url, response.status_code)
        assert response["Content-Type"].startswith("application/json"), url
        assert "detail" in response.json()


def test_api_reads_with_credentials(client, signed_in_reads, public_repo, charlie):
    listed = client.get("/api/v1/repositories/", HTTP_AUTHORIZATION=basic_auth("charlie"))
    assert listed.status_code == 200
    assert [r["name"] for r in listed.json()["results"]] == ["app"]
    client.force_login(charlie)
    assert client.get("/api/v1/repositories/alice/app/").status_code == 200
    assert client.get("/api/v1/schema/").status_code == 200


def test_public_profile_api_reads_anonymously(client, public_repo):
    assert client.get("/api/v1/repositories/alice/app/").status_code == 200
    assert client.get("/api/v1/schema/").status_code == 200


# docker search (/v1/search)


def _names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [result["name"] for result in response.json()["results"]]


def test_docker_search_needs_credentials(client, signed_in_reads, public_repo, private_repo):
    anonymous = client.get("/v1/search", {"q": "alice"})
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"].startswith('Bearer realm="http://testserver/auth/token"')
    wrong = client.get("/v1/search", {"q": "alice"}, HTTP_AUTHORIZATION=basic_auth("alice", "nope"))
    assert wrong.status_code == 401
    basic = client.get("/v1/search", {"q": "alice"}, HTTP_AUTHORIZATION=basic_auth("alice"))
    assert sorted(_names(basic)) == ["alice/app", "alice/secret"]
    # What docker sends after `docker login`: a registry token from its identity token.
    token = _token(client, "registry:catalog:search", auth=basic_auth("bob"))["token"]
    bearer = client.get("/v1/search", {"q": "alice"}, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert sorted(_names(bearer)) == ["alice/app", "alice/secret"]  # bob collaborates on secret
    anonymous_token, _ = token_issue(subject="", audience="dockyard", access=[])
    refused = client.get("/v1/search", {"q": "a"}, HTTP_AUTHORIZATION=f"Bearer {anonymous_token}")
    assert refused.status_code == 401
    forged = client.get("/v1/search", {"q": "a"}, HTTP_AUTHORIZATION="Bearer not-a-token")
    assert forged.status_code == 401


def test_docker_search_public_profile_is_anonymous(client, public_repo, private_repo):
    assert _names(client.get("/v1/search", {"q": "alice"})) == ["alice/app"]


@pytest.mark.parametrize("path", ["/accounts/signup/", "/accounts/invite/some-token/"])
def test_signup_and_invitations_are_left_to_their_views(client, signed_in_reads, path):
    """Whether an account may be made (SIGNUP) is those views' decision, not a sign-in loop."""
    response = client.get(path)
    assert "next=" not in response.get("Location", ""), response.status_code
