"""repository_search: matching, ranking, filters, visibility (on SQLite and PostgreSQL)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from hub.search import repository_search
from tests import factories
from tests.web.conftest import image_create


def names(queryset) -> list[str]:
    return [repository.full_name for repository in queryset]


def test_search_finds_public_repository_by_name(public_repo):
    assert names(repository_search(user=AnonymousUser(), query="app")) == ["alice/app"]


def test_search_hides_private_repository_from_anonymous_and_outsiders(private_repo, charlie):
    assert names(repository_search(user=AnonymousUser(), query="secret")) == []
    assert names(repository_search(user=charlie, query="secret")) == []


def test_search_shows_private_repository_to_owner_and_collaborator(private_repo, alice, bob):
    assert names(repository_search(user=alice, query="secret")) == ["alice/secret"]
    assert names(repository_search(user=bob, query="secret")) == ["alice/secret"]


def test_search_matches_namespace_description_and_full_name(alice, bob):
    factories.RepositoryFactory(namespace=alice.namespace, name="web", description="Nginx proxy")
    factories.RepositoryFactory(namespace=bob.namespace, name="tools", description="misc")
    assert names(repository_search(user=None, query="nginx")) == ["alice/web"]
    assert names(repository_search(user=None, query="bob")) == ["bob/tools"]
    assert names(repository_search(user=None, query="alice/we")) == ["alice/web"]


def test_every_term_must_match(alice):
    factories.RepositoryFactory(namespace=alice.namespace, name="redis", description="cache")
    factories.RepositoryFactory(namespace=alice.namespace, name="memcached", description="cache")
    assert names(repository_search(user=None, query="cache redis")) == ["alice/redis"]


def test_search_matches_tag_names(alice):
    repository = factories.RepositoryFactory(namespace=alice.namespace, name="db")
    factories.RepositoryFactory(namespace=alice.namespace, name="other")
    image_create(repository, "bookworm-slim")
    assert names(repository_search(user=None, query="bookworm")) == ["alice/db"]


def test_exact_name_ranks_before_prefix_before_popularity(alice, bob, charlie):
    factories.RepositoryFactory(
        namespace=bob.namespace, name="my-nginx-fork", description="", star_count=500
    )
    factories.RepositoryFactory(
        namespace=charlie.namespace, name="nginx-extras", description="", star_count=50
    )
    factories.RepositoryFactory(namespace=alice.namespace, name="nginx", description="")
    result = names(repository_search(user=None, query="nginx"))
    assert result == ["alice/nginx", "charlie/nginx-extras", "bob/my-nginx-fork"]


def test_equal_name_matches_rank_by_stars_then_pulls(alice, bob, charlie):
    factories.RepositoryFactory(namespace=alice.namespace, name="api", star_count=1, pull_count=9)
    factories.RepositoryFactory(namespace=bob.namespace, name="api", star_count=5)
    factories.RepositoryFactory(namespace=charlie.namespace, name="api", star_count=1)
    result = names(repository_search(user=None, query="api"))
    assert result == ["bob/api", "alice/api", "charlie/api"]


def test_sort_by_pulls_and_updated_override_relevance(alice, bob):
    from datetime import timedelta

    from django.utils import timezone

    old = timezone.now() - timedelta(days=3)
    factories.RepositoryFactory(namespace=alice.namespace, name="app", pull_count=1)
    factories.RepositoryFactory(
        namespace=bob.namespace, name="app-two", pull_count=99, updated_at=old
    )
    assert names(repository_search(user=None, query="app", sort="pulls")) == [
        "bob/app-two",
        "alice/app",
    ]
    assert names(repository_search(user=None, query="app", sort="updated")) == [
        "alice/app",
        "bob/app-two",
    ]


def test_org_only_keeps_organization_repositories(acme, alice):
    factories.RepositoryFactory(namespace=acme.namespace, name="app")
    factories.RepositoryFactory(namespace=alice.namespace, name="app")
    assert names(repository_search(user=None, query="app", org_only=True)) == ["acme/app"]


def test_empty_query_lists_visible_repositories_by_stars(alice, bob):
    factories.RepositoryFactory(namespace=alice.namespace, name="a", star_count=1)
    factories.RepositoryFactory(namespace=bob.namespace, name="b", star_count=7)
    factories.RepositoryFactory(namespace=bob.namespace, name="c", is_private=True)
    assert names(repository_search(user=None, query="  ")) == ["bob/b", "alice/a"]


def test_unknown_sort_falls_back_to_relevance(public_repo):
    assert names(repository_search(user=None, query="app", sort="bogus")) == ["alice/app"]


def test_strange_characters_in_query_do_not_break_search(public_repo):
    for query in ["'", '"', "%", "_", "a & b", "!(", "\\", "x" * 1000, "app:latest"]:
        # Taken literally: no wildcard or operator matches alice/app ("A test repository").
        assert names(repository_search(user=None, query=query)) == [], query
    assert names(repository_search(user=None, query="app")) == ["alice/app"]
