"""repository_search's badge filters and the publisher tie-break (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hub.models import Namespace
from hub.search import repository_search
from tests import factories


def names(queryset) -> list[str]:
    return [repository.full_name for repository in queryset]


@pytest.fixture
def publishers(db, alice):
    """`redis` four times: by a user, a plain, a verified and a sponsored org, and official."""
    plain = factories.OrganizationFactory(name="plain")
    verified = factories.OrganizationFactory(name="verified-co", verified_publisher=True)
    sponsored = factories.OrganizationFactory(name="sponsor-me", sponsored=True)
    library = Namespace.objects.get(name="library")
    # The most starred first, so popularity alone would give the opposite order.
    factories.RepositoryFactory(namespace=alice.namespace, name="redis", star_count=900)
    factories.RepositoryFactory(namespace=plain.namespace, name="redis", star_count=800)
    factories.RepositoryFactory(namespace=sponsored.namespace, name="redis", star_count=700)
    factories.RepositoryFactory(namespace=verified.namespace, name="redis", star_count=10)
    factories.RepositoryFactory(namespace=library, name="redis", star_count=1)
    return {"plain": plain, "verified": verified, "sponsored": sponsored}


def test_official_then_verified_rank_first_among_equal_name_matches(publishers):
    result = names(repository_search(user=AnonymousUser(), query="redis"))
    assert result[:2] == ["library/redis", "verified-co/redis"]
    # The rest keep their popularity order: sponsorship is no ranking signal.
    assert result[2:] == ["alice/redis", "plain/redis", "sponsor-me/redis"]


def test_a_better_name_match_still_beats_an_official_image(alice, db):
    library = Namespace.objects.get(name="library")
    factories.RepositoryFactory(namespace=library, name="nginx-proxy")
    factories.RepositoryFactory(namespace=alice.namespace, name="nginx")
    assert names(repository_search(user=None, query="nginx")) == [
        "alice/nginx",
        "library/nginx-proxy",
    ]


def test_explicit_sort_ignores_the_publisher_tie_break(publishers):
    assert names(repository_search(user=None, query="redis", sort="stars"))[0] == "alice/redis"


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"official": True}, ["library/redis"]),
        ({"verified": True}, ["verified-co/redis"]),
        ({"sponsored": True}, ["sponsor-me/redis"]),
        ({"official": True, "verified": True}, []),
    ],
)
def test_badge_filters_with_and_without_a_query(publishers, filters, expected):
    assert names(repository_search(user=None, query="redis", **filters)) == expected
    assert names(repository_search(user=None, **filters)) == expected


def test_badge_filter_combines_with_query_terms(publishers):
    verified = publishers["verified"]
    factories.RepositoryFactory(namespace=verified.namespace, name="postgres")
    result = repository_search(user=None, query="postgres", verified=True)
    assert names(result) == ["verified-co/postgres"]
    assert names(repository_search(user=None, query="postgres", official=True)) == []


def test_badge_filters_keep_private_repositories_hidden(publishers, charlie):
    verified = publishers["verified"]
    factories.RepositoryFactory(namespace=verified.namespace, name="vault", is_private=True)
    for user in (None, AnonymousUser(), charlie):
        assert "verified-co/vault" not in names(repository_search(user=user, verified=True))


def test_search_is_one_query_and_results_carry_their_badges(publishers):
    with CaptureQueriesContext(connection) as queries:
        results = list(repository_search(user=None, query="redis"))
        flags = [(r.is_official, r.is_verified_publisher, r.is_sponsored) for r in results]
    assert len(queries) == 1
    assert flags == [
        (True, False, False),
        (False, True, False),
        (False, False, False),
        (False, False, False),
        (False, False, True),
    ]
