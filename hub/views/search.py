"""The search page: /search/?q=&sort=&org=&page=."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render

from hub.forms_repository import SearchForm
from hub.search import repository_search

PAGE_SIZE = 20


def search(request):
    form = SearchForm(request.GET)
    form.is_valid()  # unknown values are dropped below; bad input never errors
    data = getattr(form, "cleaned_data", {})
    query = data.get("q") or ""
    sort = data.get("sort") or "relevance"
    org_only = bool(data.get("org"))
    results = repository_search(user=request.user, query=query, sort=sort, org_only=org_only)
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "form": form,
        "query": query,
        "sort": sort,
        "org_only": org_only,
        "page": page,
        "querystring": params.urlencode(),
        "sort_choices": SearchForm.SORT_CHOICES,
    }
    return render(request, "hub/search.html", context)
