"""Repository search: the web UI, the REST API and `docker search` all call repository_search.

Matching runs over the namespace, the name, the description and tag names. Ranking puts an
exact name match first, then a name prefix, then a name substring, then (on PostgreSQL) the
full-text rank, then stars and pulls. SQLite has no full-text ranking here: it falls back to
case-insensitive substring matching with the same name-first ordering. Badge filters (official,
verified publisher, sponsored) narrow any search, with or without a query.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When

from hub.models import Namespace, Repository
from hub.names import OFFICIAL_NAMESPACE
from hub.selectors import repository_list_visible

SORTS = ("relevance", "stars", "pulls", "updated")
MAX_QUERY_LENGTH = 200
MAX_TERMS = 8

_SORT_ORDER = {
    "stars": ["-star_count", "-pull_count", "-updated_at"],
    "pulls": ["-pull_count", "-star_count", "-updated_at"],
    "updated": ["-updated_at", "-star_count"],
}


def _terms(query: str) -> list[str]:
    return query.strip().lower()[:MAX_QUERY_LENGTH].split()[:MAX_TERMS]


def _term_q(term: str) -> Q:
    """Match one search term anywhere a user would expect: names, descriptions, tags."""
    match = (
        Q(name__icontains=term)
        | Q(namespace__name__icontains=term)
        | Q(description__icontains=term)
        | Q(pk__in=Repository.objects.filter(tags__name__istartswith=term).values("pk"))
    )
    if "/" in term:
        # "alice/ap" names a namespace and the start of a repository name.
        namespace, _, name = term.partition("/")
        match |= Q(namespace__name__iexact=namespace, name__istartswith=name)
    return match


def _name_rank(query: str) -> Case:
    """3 for an exact name (or full name) match, 2 for a prefix, 1 for a substring, else 0."""
    needle = query.strip().lower()
    whens = [When(name__iexact=needle, then=Value(3)), When(name__istartswith=needle, then=2)]
    if "/" in needle:
        namespace, _, name = needle.partition("/")
        whens.insert(0, When(namespace__name__iexact=namespace, name__iexact=name, then=3))
        whens.insert(1, When(namespace__name__iexact=namespace, name__istartswith=name, then=2))
    whens.append(When(name__icontains=needle, then=Value(1)))
    return Case(*whens, default=Value(0), output_field=IntegerField())


def _publisher_rank() -> Case:
    """2 for an official image, 1 for a verified publisher's repository, else 0."""
    return Case(
        When(namespace__name=OFFICIAL_NAMESPACE, then=Value(2)),
        When(namespace__organization__verified_publisher=True, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )


def badge_filter(
    queryset: QuerySet[Repository],
    *,
    official: bool = False,
    verified: bool = False,
    sponsored: bool = False,
) -> QuerySet[Repository]:
    """Keep the repositories that carry every badge asked for (explore uses it too)."""
    if official:
        queryset = queryset.filter(namespace__name=OFFICIAL_NAMESPACE)
    if verified:
        queryset = queryset.filter(namespace__organization__verified_publisher=True)
    if sponsored:
        queryset = queryset.filter(namespace__organization__sponsored=True)
    return queryset


def _is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def _fulltext(queryset: QuerySet[Repository], query: str, terms_q: Q) -> QuerySet[Repository]:
    """On PostgreSQL: match the full-text query or every term's substring; rank by text."""
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

    vector = (
        SearchVector("name", weight="A", config="simple")
        + SearchVector("namespace__name", weight="A", config="simple")
        + SearchVector("description", weight="B", config="simple")
        + SearchVector("full_description", weight="D", config="simple")
    )
    search_query = SearchQuery(query, search_type="websearch", config="simple")
    return (
        queryset.annotate(search=vector)
        .filter(Q(search=search_query) | terms_q)
        .annotate(text_rank=SearchRank(vector, search_query))
    )


def repository_search(
    *,
    user,
    query: str = "",
    sort: str = "relevance",
    org_only: bool = False,
    official: bool = False,
    verified: bool = False,
    sponsored: bool = False,
) -> QuerySet[Repository]:
    """Return the repositories `user` may see that match `query`, best first.

    `sort` is one of SORTS ("relevance" when unknown); `org_only` keeps repositories owned by
    organizations; `official`, `verified` and `sponsored` keep those with that badge. The
    result is an unsliced queryset: callers paginate it.
    """
    # Visibility via the selector; pk__in keeps later annotations free of its DISTINCT.
    visible = repository_list_visible(user=user).values("pk")
    # The organization rides along: every result shows its publisher badges.
    queryset = Repository.objects.filter(pk__in=visible).select_related("namespace__organization")
    if org_only:
        queryset = queryset.filter(namespace__kind=Namespace.Kind.ORGANIZATION)
    queryset = badge_filter(queryset, official=official, verified=verified, sponsored=sponsored)
    terms = _terms(query)
    order = _SORT_ORDER.get(sort)
    if not terms:
        return queryset.order_by(*(order or _SORT_ORDER["stars"]), "pk")
    terms_q = Q()
    for term in terms:
        terms_q &= _term_q(term)
    # Among repositories whose names match equally well, official images come first, then
    # verified publishers': the name a user typed still wins (a user's exact `nginx` beats an
    # official `nginx-proxy`), the badge breaks the tie before the text rank, whose float noise
    # would otherwise decide almost every tie.
    relevance = ["-name_rank", "-publisher_rank"]
    if _is_postgresql():
        queryset = _fulltext(queryset, " ".join(terms), terms_q)
        relevance.append(F("text_rank").desc(nulls_last=True))
    else:
        queryset = queryset.filter(terms_q)
    queryset = queryset.annotate(
        name_rank=_name_rank(" ".join(terms)), publisher_rank=_publisher_rank()
    )
    if order:
        return queryset.order_by(*order, "pk")
    return queryset.order_by(*relevance, "-star_count", "-pull_count", "-updated_at", "pk")
