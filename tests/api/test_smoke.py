from tests.api.conftest import API


def test_list(api, public_repo, private_repo):
    response = api.get(f"{API}/repositories/")
    assert response.status_code == 200, response.content
    assert [r["full_name"] for r in response.json()["results"]] == ["alice/app"]
