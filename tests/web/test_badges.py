"""Publisher badges in the UI: official images (`library`), verified publishers, sponsored
projects, on repository pages, cards, search, explore and the organization's profile; the
profile settings page owners use, which can never grant a badge."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command

from hub.models import Namespace, Organization
from tests import factories
from tests.conftest import PASSWORD


def login(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def badges_of(html: str, full_name: str) -> set[str]:
    """The badge classes on the card linking to `full_name` (found by link: `library/centos`
    may be shown as `centos`)."""
    cards = re.findall(r'<article class="card repo-card">.*?</article>', html, re.S)
    card = next(card for card in cards if f'href="/r/{full_name}/"' in card)
    return set(re.findall(r'class="badge (\w+)"', card))


def shown(html: str) -> set[str]:
    """Full names of the repositories on the page's cards."""
    return set(re.findall(r'<h3><a href="/r/([^"]+)/">', html))


@pytest.fixture
def official(db):
    library = Namespace.objects.get(name="library")
    return factories.RepositoryFactory(namespace=library, name="centos", star_count=1)


@pytest.fixture
def verified(acme):
    acme.verified_publisher = True
    acme.save()
    return factories.RepositoryFactory(namespace=acme.namespace, name="agent", star_count=2)


@pytest.fixture
def sponsored(db):
    oss = factories.OrganizationFactory(name="oss", display_name="Open Source Co")
    oss.sponsored = True
    oss.save()
    return factories.RepositoryFactory(namespace=oss.namespace, name="tool", star_count=3)


@pytest.fixture
def every_kind(official, verified, sponsored, public_repo):
    return official, verified, sponsored, public_repo


def test_explore_cards_carry_each_repositorys_badges(client, every_kind):
    html = client.get("/").content.decode()
    assert badges_of(html, "library/centos") == {"official", "org"}
    assert badges_of(html, "acme/agent") == {"verified", "org"}
    assert badges_of(html, "oss/tool") == {"sponsored", "org"}
    assert badges_of(html, "alice/app") == set()
    # Words, not colour alone: each badge says what it is.
    for text in ("Official image", "Verified publisher", "Sponsored"):
        assert f"</span>{text}</span>" in html


def test_repository_page_header_shows_its_badges(client, official, verified):
    html = client.get("/r/library/centos/").content.decode()
    assert 'class="badge official"' in html and "Official image" in html
    assert 'class="badge verified"' not in html
    html = client.get("/r/acme/agent/").content.decode()
    assert 'class="badge verified"' in html and 'class="badge official"' not in html


def test_user_repository_page_has_no_publisher_badge(client, public_repo):
    html = client.get("/r/alice/app/").content.decode()
    assert not {"official", "verified", "sponsored"} & set(re.findall(r'badge (\w+)"', html))


def test_search_results_show_badges(client, every_kind):
    html = client.get("/search/?q=o").content.decode()
    assert badges_of(html, "library/centos") == {"official", "org"}
    assert badges_of(html, "oss/tool") == {"sponsored", "org"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("official=1", {"library/centos"}),
        ("verified=1", {"acme/agent"}),
        ("sponsored=true", {"oss/tool"}),
        ("official=0", {"library/centos", "acme/agent", "oss/tool", "alice/app"}),
        ("official=1&verified=1", set()),
    ],
)
def test_search_page_filters_by_badge(client, every_kind, params, expected):
    assert shown(client.get(f"/search/?{params}").content.decode()) == expected


def test_search_page_badge_filter_combines_with_query_and_stays_checked(client, every_kind, acme):
    factories.RepositoryFactory(namespace=acme.namespace, name="tool-box")
    html = client.get("/search/?q=tool&verified=1").content.decode()
    assert shown(html) == {"acme/tool-box"}
    assert 'name="verified" value="1" checked' in html
    assert 'name="official" value="1">' in html


def test_explore_filters_popular_and_recent_by_badge(client, every_kind):
    html = client.get("/?official=1").content.decode()
    assert shown(html) == {"library/centos"}
    # The active filter links back to the unfiltered page; the others add to it.
    assert 'href="?" aria-current="true"' in html
    assert 'href="?official=1&amp;verified=1"' in html


def test_explore_filter_does_not_reveal_private_repositories(client, verified, acme, charlie):
    factories.RepositoryFactory(namespace=acme.namespace, name="internal", is_private=True)
    for viewer in (None, charlie):
        if viewer:
            login(client, viewer)
        html = client.get("/?verified=1").content.decode()
        assert "acme/agent" in html and "acme/internal" not in html


def test_organization_profile_shows_badges_display_name_description_and_website(client, acme):
    acme.display_name, acme.description = "Acme Corporation", "Rockets and anvils"
    acme.website, acme.verified_publisher, acme.sponsored = "https://acme.example", True, True
    acme.save()
    factories.RepositoryFactory(namespace=acme.namespace, name="anvil")
    html = client.get("/u/acme/").content.decode()
    start = html.index('<header class="profile-header">')
    header = html[start : html.index("</header>", start)]
    assert 'class="badge verified"' in header and 'class="badge sponsored"' in header
    assert 'class="badge official"' not in header
    assert "Acme Corporation" in header and "Rockets and anvils" in header
    assert '<a href="https://acme.example" rel="nofollow noopener noreferrer">' in header
    assert "acme/anvil" in html


def test_library_profile_says_official_images(client, official):
    html = client.get("/u/library/").content.decode()
    assert 'class="badge official"' in html and shown(html) == {"library/centos"}


def test_organization_profile_hides_private_repositories_from_outsiders(
    client, acme, dave, charlie
):
    factories.RepositoryFactory(namespace=acme.namespace, name="public-one")
    factories.RepositoryFactory(namespace=acme.namespace, name="hidden-one", is_private=True)
    assert "acme/hidden-one" not in client.get("/u/acme/").content.decode()
    assert "acme/hidden-one" not in login(client, charlie).get("/u/acme/").content.decode()
    html = login(client, dave).get("/u/acme/").content.decode()
    assert "acme/hidden-one" in html and "acme/public-one" in html


def test_owner_edits_the_profile_and_sees_the_link(client, acme, alice):
    login(client, alice)
    assert 'href="/orgs/acme/profile/"' in client.get("/u/acme/").content.decode()
    response = client.post(
        "/orgs/acme/profile/",
        {"display_name": "Acme", "description": "We ship", "website": "https://acme.example/"},
    )
    assert response.status_code == 302 and response["Location"] == "/u/acme/"
    acme.refresh_from_db()
    assert (acme.display_name, acme.description, acme.website) == (
        "Acme",
        "We ship",
        "https://acme.example/",
    )


def test_owner_cannot_grant_badges_by_posting_them_in_the_profile_form(client, acme, alice):
    """The attack: the owner adds the badge fields to the settings form by hand."""
    login(client, alice)
    response = client.post(
        "/orgs/acme/profile/",
        {
            "display_name": "Acme",
            "verified_publisher": "on",
            "sponsored": "on",
            "is_official": "on",
        },
    )
    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.display_name == "Acme"
    assert (acme.verified_publisher, acme.sponsored) == (False, False)
    assert 'class="badge verified"' not in client.get("/u/acme/").content.decode()


@pytest.mark.parametrize("website", ["javascript:alert(1)", "ftp://acme.example/", "not a url"])
def test_profile_form_refuses_non_http_websites(client, acme, alice, website):
    response = login(client, alice).post("/orgs/acme/profile/", {"website": website})
    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    acme.refresh_from_db()
    assert acme.website == ""


def test_profile_settings_are_for_owners_only(client, acme, dave, charlie):
    assert client.get("/orgs/acme/profile/").status_code == 302  # to sign in
    for user in (dave, charlie):
        login(client, user)
        assert client.get("/orgs/acme/profile/").status_code == 403
        assert client.post("/orgs/acme/profile/", {"description": "x"}).status_code == 403
    acme.refresh_from_db()
    assert acme.description == ""
    assert client.get("/orgs/alice/profile/").status_code == 404  # a user, not an organization


def test_administrator_grants_badges_in_the_admin_site(client, acme):
    operator = factories.UserFactory(username="operator", is_staff=True, is_superuser=True)
    login(client, operator)
    url = f"/admin/hub/organization/{acme.pk}/change/"
    assert 'name="verified_publisher"' in client.get(url).content.decode()
    memberships = list(acme.membership_set.order_by("pk"))
    form = {
        "name": "acme",
        "display_name": "",
        "description": "",
        "website": "",
        "verified_publisher": "on",
        "sponsored": "on",
        "created_at_0": acme.created_at.strftime("%Y-%m-%d"),
        "created_at_1": acme.created_at.strftime("%H:%M:%S"),
        "membership_set-TOTAL_FORMS": str(len(memberships)),
        "membership_set-INITIAL_FORMS": str(len(memberships)),
    }
    for index, membership in enumerate(memberships):
        form[f"membership_set-{index}-id"] = str(membership.pk)
        form[f"membership_set-{index}-organization"] = str(acme.pk)
        form[f"membership_set-{index}-user"] = str(membership.user_id)
        form[f"membership_set-{index}-role"] = membership.role
        form[f"membership_set-{index}-created_at_0"] = membership.created_at.strftime("%Y-%m-%d")
        form[f"membership_set-{index}-created_at_1"] = membership.created_at.strftime("%H:%M:%S")
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    acme.refresh_from_db()
    assert acme.verified_publisher and acme.sponsored


def test_publisher_badges_command_grants_and_withdraws(acme, capsys):
    call_command("publisher_badges", "acme", "--verified", "--sponsored")
    acme.refresh_from_db()
    assert acme.verified_publisher and acme.sponsored
    call_command("publisher_badges", "acme", "--no-sponsored")
    acme.refresh_from_db()
    assert acme.verified_publisher and not acme.sponsored
    assert "acme: verified publisher yes, sponsored no." in capsys.readouterr().out


def test_publisher_badges_command_names_an_unknown_organization(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no organization named 'nope'"):
        call_command("publisher_badges", "nope", "--verified")
    assert not Organization.objects.filter(verified_publisher=True).exists()
