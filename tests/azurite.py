"""A real Azure Blob endpoint for tests: Azurite (from the npm registry) on loopback.

scripts/install-test-deps.sh installs the `azurite` npm package under AZURITE_HOME (default
~/.cache/dockyard/azurite, outside the repository). `azurite` is a session fixture (one
`azurite-blob` per test session, started on first use, ~2 s) on Azurite's well-known development
account; `azure_registry_storage` points the `registry` storage alias at a fresh container, so
tests never see each other's blobs. End-to-end tests start an Azure-backed server with
`Azurite.server_env()`.

    from tests.azurite import azure_registry_storage, azurite  # noqa: F401
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.e2e.server import free_port
from tests.processes import terminate, until_ready

# Azurite's fixed development account (public: documented with Azurite, valid nowhere else).
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
CONTAINER = "dockyard"


def azurite_home() -> Path:
    default = Path.home() / ".cache" / "dockyard" / "azurite"
    return Path(os.environ.get("AZURITE_HOME") or default)


def azurite_binary() -> str | None:
    installed = azurite_home() / "node_modules" / ".bin" / "azurite-blob"
    if installed.exists() and shutil.which("node"):
        return str(installed)
    return shutil.which("azurite-blob")


class Azurite:
    """One `azurite-blob` with its own workspace directory and port."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}/{ACCOUNT}"
        self.connection_string = (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={self.endpoint};"
        )
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Azurite:
        binary = azurite_binary()
        if binary is None:
            raise RuntimeError("azurite-blob is missing (scripts/install-test-deps.sh)")
        workspace = self.root / "workspace"
        workspace.mkdir(parents=True, exist_ok=True)
        command = [
            binary,
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(self.port),
            "--location",
            str(workspace),
            "--skipApiVersionCheck",
            "--loose",
            "--silent",
            "--disableTelemetry",  # no traffic off the machine
        ]
        self.log = open(self.root / "azurite.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.root
        )
        try:
            until_ready(
                self.process,
                lambda: self.service().create_container(CONTAINER),
                what=f"Azurite on {self.endpoint}",
                log=self.root / "azurite.log",
                timeout=timeout,
                interval=0.3,
                exists=("ResourceExistsError",),
            )
        except RuntimeError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        terminate(self.process)
        if getattr(self, "log", None):
            self.log.close()

    def service(self):
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient.from_connection_string(
            self.connection_string, retry_total=0, connection_timeout=5
        )

    def object_sizes(self, container: str = CONTAINER) -> dict[str, int]:
        """Every blob in the container, by name: its size."""
        blobs = self.service().get_container_client(container).list_blobs()
        return {item.name: item.size for item in blobs}

    def storage_options(self, container: str = CONTAINER) -> dict:
        """OPTIONS for storages.backends.azure_storage.AzureStorage, as config/settings.py
        builds them."""
        return {
            "connection_string": self.connection_string,
            "azure_container": container,
            "overwrite_files": True,
            "expiration_secs": 600,
        }

    def server_env(self) -> dict[str, str]:
        """Environment for a Dockyard server process storing blobs in this Azurite."""
        return {
            "STORAGE_BACKEND": "azure",
            "AZURE_CONNECTION_STRING": self.connection_string,
            "AZURE_CONTAINER": CONTAINER,
        }


@pytest.fixture(scope="session")
def azurite(tmp_path_factory):
    if azurite_binary() is None:
        pytest.skip("azurite-blob is not installed (scripts/install-test-deps.sh)")
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    server = Azurite(tmp_path_factory.mktemp("azurite")).start()
    yield server
    server.stop()


@pytest.fixture
def azure_registry_storage(azurite, settings):
    """Point the `registry` storage alias at Azurite, in a container of its own."""
    from django.core.files.storage import storages

    container = f"test-{uuid.uuid4().hex[:20]}"
    azurite.service().create_container(container)
    stores = dict(settings.STORAGES)
    options = azurite.storage_options(container=container)
    # Small blocks, so a blob past 4 MiB is staged blocks committed by Put Block List.
    options["client_options"] = {"max_single_put_size": 4 * 1024**2, "max_block_size": 4 * 1024**2}
    stores["registry"] = {
        "BACKEND": "storages.backends.azure_storage.AzureStorage",
        "OPTIONS": options,
    }
    settings.STORAGES = stores
    storages._storages.pop("registry", None)
    yield azurite
    storages._storages.pop("registry", None)
