"""The search page: /search/?q=&sort=&org=&official=&verified=&sponsored=&signed=&page=."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from hub.forms_repository import SearchForm
from hub.search import repository_search
from registry_api.selectors.signatures import repositories_signed

PAGE_SIZE = 20
BADGE_FILTERS = {
    "official": _("Official images"),
    "verified": _("Verified publishers"),
    "sponsored": _("Sponsored"),
}
FLAG_ON = ("1", "true", "on", "yes")


def badge_flags(params) -> dict[str, bool]:
    """`?official=1&verified=true` -> {"official": True, "verified": True, "sponsored": False}.

    Parsed here, not by a forms.BooleanField: its checkbox widget reads "0" as checked.
    """
    return {name: params.get(name, "").lower() in FLAG_ON for name in BADGE_FILTERS}


def search(request):
    form = SearchForm(request.GET)
    form.is_valid()  # unknown values are dropped below; bad input never errors
    data = getattr(form, "cleaned_data", {})
    query = data.get("q") or ""
    sort = data.get("sort") or "relevance"
    org_only = bool(data.get("org"))
    badges = badge_flags(request.GET)
    signed = request.GET.get("signed", "").lower() in FLAG_ON
    results = repository_search(
        user=request.user, query=query, sort=sort, org_only=org_only, **badges
    )
    if signed:
        results = repositories_signed(results)
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "form": form,
        "query": query,
        "sort": sort,
        "org_only": org_only,
        "badges": badges,
        "signed": signed,
        "badge_filters": [(name, label, badges[name]) for name, label in BADGE_FILTERS.items()],
        "page": page,
        "querystring": params.urlencode(),
        "sort_choices": SearchForm.SORT_CHOICES,
    }
    return render(request, "hub/search.html", context)
