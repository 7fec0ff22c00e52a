from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.conftest import basic_auth


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def as_user():
    def make(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=basic_auth(user.username))
        return client

    return make
