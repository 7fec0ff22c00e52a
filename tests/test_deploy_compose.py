"""deploy/compose.yaml: valid for compose (`docker compose config` / `docker-compose config` when
installed, and the Compose Specification's JSON schema that Debian's docker-compose ships), and
the production shape the docs promise: two web replicas after a one-shot migrate, a health
check on every long-running service, pinned images, secrets only from .env, and an nginx that
streams request bodies. tests/e2e/test_proxy.py runs the nginx file itself.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
NGINX = DEPLOY / "nginx" / "dockyard.conf"
ENV_EXAMPLE = DEPLOY / ".env.example"
# Debian's docker-compose (v1) validates with this copy of the Compose Specification's schema.
SCHEMA_PATHS = [Path("/usr/lib/python3/dist-packages/compose/config/compose_spec.json")]
SECRET_NAME = re.compile(r"PASSWORD|SECRET|_KEY\b|TOKEN", re.IGNORECASE)
ROLES = {"web", "worker", "beat", "migrate"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def _filled_env_file(directory: Path) -> Path:
    """deploy/ copied with a .env made from .env.example, every empty value filled."""
    target = directory / "deploy"
    shutil.copytree(DEPLOY, target)
    values = {
        name: value or f"test{name.lower().replace('_', '')}"
        for name, value in _env_example().items()
    }
    values["DOCKYARD_HOSTNAME"] = "registry.example.com"
    (target / ".env").write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    return target


def test_the_services_a_production_registry_needs(compose):
    services = compose["services"]
    assert {"proxy", "web", "worker", "beat", "migrate", "postgres", "redis", "s3"} <= set(services)
    for role in ROLES:
        assert services[role]["image"].startswith("${DOCKYARD_IMAGE:-dockyard:latest}")
        assert services[role]["entrypoint"] == ["dockyard"]
        assert services[role]["command"] == [role]
    assert services["web"]["deploy"]["replicas"] == 2


def test_migrate_runs_once_before_web_worker_and_beat(compose):
    services = compose["services"]
    assert services["migrate"]["restart"] == "no"
    for role in ("web", "worker", "beat"):
        assert services[role]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    assert services["migrate"]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert services["proxy"]["depends_on"]["web"] == {"condition": "service_healthy"}


def test_every_long_running_service_has_a_health_check(compose):
    for name, service in compose["services"].items():
        if service.get("restart") == "no":
            continue  # one-shot: done is its health
        check = service.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), name
    web_check = " ".join(compose["services"]["web"]["healthcheck"]["test"])
    assert "/-/ready" in web_check and "urllib" in web_check
    assert "pg_isready" in compose["services"]["postgres"]["healthcheck"]["test"]
    assert "redis-cli ping" in " ".join(compose["services"]["redis"]["healthcheck"]["test"])


def test_images_are_pinned(compose):
    for name, service in compose["services"].items():
        image = service["image"]
        if name in ROLES or image.startswith("${DOCKYARD_IMAGE"):
            continue
        _, _, tag = image.rpartition(":")
        assert re.match(r"^\d+(\.\d+)+", tag), f"{name}: {image} is not pinned to a version"


def test_data_lives_in_volumes(compose):
    declared = set(compose["volumes"])
    for name in ("web", "worker", "beat", "migrate"):
        assert "dockyard-data:/data" in compose["services"][name]["volumes"]
    assert "postgres-data:/var/lib/postgresql/data" in compose["services"]["postgres"]["volumes"]
    assert {"dockyard-data", "postgres-data", "redis-data", "s3-data"} <= declared


def test_no_secret_is_written_in_the_compose_file_or_the_example(compose):
    text = COMPOSE.read_text()
    for name, service in compose["services"].items():
        environment = service.get("environment") or {}
        for variable, value in environment.items():
            if SECRET_NAME.search(variable):
                assert str(value).startswith("${"), f"{name}: {variable} is a literal"
    # Passwords in URLs come from .env as well.
    for url in re.findall(r"\w+://[^\s]*@", text):
        assert "${" in url, url
    for variable, value in _env_example().items():
        if SECRET_NAME.search(variable):
            assert value == "", f".env.example gives {variable} a value"


def test_dockyard_trusts_the_proxy_and_says_https(compose):
    environment = compose["services"]["web"]["environment"]
    assert environment["BEHIND_PROXY"] == "true"
    assert environment["SITE_URL"].startswith("https://")
    proxy = compose["services"]["proxy"]
    assert "./nginx/dockyard.conf:/etc/nginx/conf.d/default.conf:ro" in proxy["volumes"]


def test_nginx_streams_request_bodies_and_forwards_what_dockyard_trusts():
    config = NGINX.read_text()
    directives = {
        line.strip().rstrip(";")
        for line in config.splitlines()
        if line.strip() and not line.strip().startswith("#")
    }
    for directive in (
        "proxy_request_buffering off",
        "proxy_buffering off",
        "client_max_body_size 0",
        "proxy_http_version 1.1",
        "chunked_transfer_encoding on",
        # config/settings.py: SECURE_PROXY_SSL_HEADER and USE_X_FORWARDED_HOST (BEHIND_PROXY).
        "proxy_set_header X-Forwarded-Proto $scheme",
        "proxy_set_header X-Forwarded-Host $http_host",
        "proxy_set_header Host $http_host",
        # hub.credentials.client_ip: the last entry is the proxy's.
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for",
    ):
        assert directive in directives, directive
    for timeout in ("proxy_read_timeout", "proxy_send_timeout", "client_body_timeout"):
        seconds = int(re.search(rf"{timeout} (\d+)s;", config).group(1))
        assert seconds >= 600, timeout
    settings_text = (DEPLOY.parent / "config" / "settings.py").read_text()
    assert '("HTTP_X_FORWARDED_PROTO", "https")' in settings_text


def _compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker:
        version = subprocess.run(
            [docker, "compose", "version"], capture_output=True, text=True, timeout=30
        )
        if version.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_compose_accepts_the_file(tmp_path):
    command = _compose_command()
    if command is None:
        pytest.skip("neither `docker compose` nor docker-compose is installed")
    directory = _filled_env_file(tmp_path)
    checked = subprocess.run(
        [*command, "config", "-q"], cwd=directory, capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stderr
    rendered = subprocess.run(
        [*command, "config"], cwd=directory, capture_output=True, text=True, timeout=60
    )
    config = yaml.safe_load(rendered.stdout)
    environment = config["services"]["web"]["environment"]
    assert environment["DATABASE_URL"] == (
        "postgres://dockyard:testpostgrespassword@postgres:5432/dockyard"
    )
    assert environment["SITE_URL"] == "https://registry.example.com"
    assert "${" not in rendered.stdout.replace("$${", "")


def test_compose_refuses_a_missing_secret(tmp_path):
    command = _compose_command()
    if command is None:
        pytest.skip("neither `docker compose` nor docker-compose is installed")
    directory = _filled_env_file(tmp_path)
    env_file = directory / ".env"
    env_file.write_text(
        "".join(
            line + "\n"
            for line in env_file.read_text().splitlines()
            if not line.startswith("POSTGRES_PASSWORD=")
        )
    )
    checked = subprocess.run(
        [*command, "config", "-q"], cwd=directory, capture_output=True, text=True, timeout=60
    )
    assert checked.returncode != 0
    assert "POSTGRES_PASSWORD" in checked.stderr


def test_the_compose_specification_schema_accepts_the_file(compose):
    schema_path = next((path for path in SCHEMA_PATHS if path.exists()), None)
    if schema_path is None:
        pytest.skip("no copy of the Compose Specification schema (Debian: docker-compose)")
    import jsonschema

    schema = json.loads(schema_path.read_text())
    jsonschema.validate(compose, schema, cls=jsonschema.Draft7Validator)
    broken = {
        **compose,
        "services": {**compose["services"], "web": {"image": "x", "deploy": {"replicas": "two"}}},
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema, cls=jsonschema.Draft7Validator)
