from tests.conftest import PASSWORD
from tests.web.conftest import index_create


def test_pages_render(client, tagged_repo, private_repo, alice, acme):
    index_create(tagged_repo, "multi", pushed_by=alice)
    for url in [
        "/",
        "/search/?q=app",
        "/u/alice/",
        "/u/acme/",
        "/r/alice/app/",
        "/r/alice/app/-/tags/latest/",
        "/r/alice/app/-/tags/multi/",
        "/nope/",
    ]:
        r = client.get(url)
        assert r.status_code in (200, 404), url
    client.login(username="alice", password=PASSWORD)
    for url in ["/", "/r/alice/app/-/settings/", "/r/alice/secret/", "/u/acme/"]:
        r = client.get(url)
        assert r.status_code == 200, url
