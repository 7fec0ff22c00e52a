"""deploy/compose.yaml's `s3-bucket` one-shot, its own code run against a real S3 (SeaweedFS):
it creates the bucket when missing and succeeds again when the bucket is there."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import yaml

from tests.s3 import ACCESS_KEY, REGION, SECRET_KEY, seaweedfs  # noqa: F401 - session fixture

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "compose.yaml"


def test_the_bucket_one_shot_creates_the_bucket_once(seaweedfs):  # noqa: F811
    command = yaml.safe_load(COMPOSE.read_text())["services"]["s3-bucket"]["command"]
    assert command[:2] == ["python", "-c"]
    bucket = f"compose-{uuid.uuid4().hex[:12]}"
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_S3_ENDPOINT_URL": seaweedfs.endpoint_url,
        "AWS_STORAGE_BUCKET_NAME": bucket,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "NO_PROXY": "127.0.0.1",
    }
    for _ in range(2):  # a second `docker compose up` finds the bucket and exits 0 too
        result = subprocess.run(
            [sys.executable, "-c", command[2]], env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
    names = [b["Name"] for b in seaweedfs.client().list_buckets()["Buckets"]]
    assert bucket in names
