"""Explore, the search page, /v1/search for `docker search`, and profiles."""

from __future__ import annotations

from django.db import connection

from tests import factories
from tests.conftest import PASSWORD
from tests.web.conftest import image_create


def login(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def test_explore_lists_popular_and_recent_public_only(client, public_repo, private_repo):
    factories.RepositoryFactory(namespace=public_repo.namespace, name="famous", star_count=40)
    html = client.get("/").content.decode()
    assert "alice/famous" in html and "alice/app" in html
    assert "alice/secret" not in html
    assert html.index("alice/famous") < html.index("alice/app")


def test_explore_shows_signed_in_users_own_and_starred(client, private_repo, bob, charlie):
    theirs = factories.RepositoryFactory(namespace=charlie.namespace, name="tool")
    factories.StarFactory(repository=theirs, user=bob)
    html = login(client, bob).get("/").content.decode()
    assert "Starred" in html and "charlie/tool" in html
    html = login(client, private_repo.namespace.user).get("/").content.decode()
    assert "Your repositories" in html and "alice/secret" in html


def test_search_page_finds_public_not_private(client, public_repo, private_repo):
    html = client.get("/search/?q=a").content.decode()
    assert "alice/app" in html and "alice/secret" not in html
    html = client.get("/search/?q=secret").content.decode()
    assert "No repositories match" in html


def test_search_page_shows_private_to_collaborator(client, private_repo, bob):
    assert "alice/secret" in login(client, bob).get("/search/?q=secret").content.decode()


def test_search_page_filters_sorts_and_paginates(client, alice, acme):
    for number in range(25):
        factories.RepositoryFactory(
            namespace=alice.namespace, name=f"svc{number:02d}", pull_count=number
        )
    factories.RepositoryFactory(namespace=acme.namespace, name="svc-org")
    first = client.get("/search/?q=svc&sort=pulls").content.decode()
    assert "26 repositories" in first
    assert first.index("alice/svc24") < first.index("alice/svc23")
    assert "page=2" in first and "sort=pulls" in first
    second = client.get("/search/?q=svc&sort=pulls&page=2").content.decode()
    assert "alice/svc00" in second and "alice/svc24" not in second
    org = client.get("/search/?q=svc&org=1").content.decode()
    assert "acme/svc-org" in org and "alice/svc01" not in org


def test_search_page_survives_bad_input(client, public_repo):
    bad = ["?q=%00", "?page=abc", "?page=999", "?sort=evil", "?q=" + "x" * 500, "?org=maybe"]
    for query in bad:
        assert client.get("/search/" + query).status_code == 200


def test_search_matches_tags(client, public_repo):
    image_create(public_repo, "bookworm-slim")
    assert "alice/app" in client.get("/search/?q=bookworm").content.decode()


def test_postgres_full_text_matches_words_in_full_description(client, alice):
    factories.RepositoryFactory(
        namespace=alice.namespace, name="edge", full_description="A reverse proxy for containers"
    )
    html = client.get("/search/?q=proxy containers").content.decode()
    if connection.vendor == "postgresql":
        assert "alice/edge" in html
    else:  # SQLite falls back to substring matching over names and descriptions only
        assert "alice/edge" not in html


def test_docker_search_returns_docker_hub_shape(client, public_repo, private_repo):
    public_repo.star_count = 3
    public_repo.save()
    response = client.get("/v1/search?q=a&n=10")
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "a"
    assert body["num_results"] == 1
    assert body["page_size"] == 10 and body["page"] == 1
    assert body["results"] == [
        {
            "name": "alice/app",
            "description": "A test repository",
            "star_count": 3,
            "pull_count": 0,
            "is_official": False,
            "is_automated": False,
            "is_trusted": False,
        }
    ]


def test_docker_search_limit_and_bad_parameters(client, alice):
    for number in range(5):
        factories.RepositoryFactory(namespace=alice.namespace, name=f"x{number}")
    body = client.get("/v1/search?q=x&n=2&page=2").json()
    assert len(body["results"]) == 2 and body["num_results"] == 5 and body["num_pages"] == 3
    for query in ["n=abc", "n=-5", "n=100000", "page=0", "q=%27", ""]:
        assert client.get("/v1/search?" + query).status_code == 200


def test_profile_lists_visible_repositories_and_starred(client, public_repo, private_repo, bob):
    factories.StarFactory(repository=public_repo, user=bob)
    html = client.get("/u/alice/").content.decode()
    assert "alice/app" in html and "alice/secret" not in html
    assert "alice/app" in client.get("/u/bob/").content.decode()  # bob's starred list
    assert "alice/secret" in login(client, bob).get("/u/alice/").content.decode()


def test_starred_list_hides_private_repositories_from_others(client, private_repo, bob, charlie):
    factories.StarFactory(repository=private_repo, user=bob)
    assert "alice/secret" not in login(client, charlie).get("/u/bob/").content.decode()


def test_organization_profile_shows_members_and_manage_link_for_owners(client, acme, alice, dave):
    # Members are visible to members only (as on Docker Hub): dave, a member, sees them.
    html = login(client, dave).get("/u/acme/").content.decode()
    assert "Members" in html and "alice" in html and "dave" in html
    assert "Manage members" not in html
    client.logout()
    from django.urls import NoReverseMatch, reverse

    try:
        url = reverse("accounts:org-members", args=["acme"])
    except NoReverseMatch:
        url = None
    html = login(client, alice).get("/u/acme/").content.decode()
    if url:
        assert url in html
    client.logout()
    assert "Manage members" not in login(client, dave).get("/u/acme/").content.decode()


def test_unknown_profile_is_404(client, db):
    assert client.get("/u/nobody/").status_code == 404


def test_docker_v1_ping_answers_standalone(client, db):
    response = client.get("/v1/_ping")
    assert response.status_code == 200
    assert response.json() == {"standalone": True}
    assert response["X-Docker-Registry-Standalone"] == "true"


def test_organization_profile_hides_members_from_anonymous_and_outsiders(client, acme, charlie):
    for html in (
        client.get("/u/acme/").content.decode(),
        login(client, charlie).get("/u/acme/").content.decode(),
    ):
        assert "acme" in html
        assert "member-list" not in html and "dave" not in html
