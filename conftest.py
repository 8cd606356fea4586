"""Repository-wide pytest set-up, loaded by every suite (each runs in its own process under this rootdir).

The real annotation samples. A few tests read real files from public datasets (DOTA, DIOR, HRSC, HRRSD,
AU-AIR, SDD, iSAID, RSICD/RSITMD/UCM, Sydney-Captions) that are not part of the repository: CI provides them
in ``../shared/data`` beside the clone, and docs/test-data.md says what they are and where each comes from.
Such tests take the ``shared_data`` fixture. Without the folder they skip with one line saying so, which
keeps a plain clone's test run green; with ``RS_CLIP_REQUIRE_SHARED_DATA=1`` (set by ``.ci/run``) a missing
folder fails them instead, so CI can never skip them silently. ``RS_CLIP_SHARED_DATA`` points elsewhere.

An S3 store. Tests of ``s3://`` locations take the ``s3`` fixture: moto's S3 server on localhost, one per
test module; ``s3_reader`` makes it enforce IAM for a user who may only read one prefix.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent


def shared_data_dir() -> Path:
    return Path(os.environ.get("RS_CLIP_SHARED_DATA") or REPO.parent / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real samples (docs/test-data.md); skips, or fails where they are required, without it."""
    root = shared_data_dir()
    if (root / "MANIFEST.sha256").is_file():
        return root
    why = f"real sample files not found at {root} (see docs/test-data.md)"
    if os.environ.get("RS_CLIP_REQUIRE_SHARED_DATA") == "1":
        pytest.fail(f"{why}; RS_CLIP_REQUIRE_SHARED_DATA=1 requires them", pytrace=False)
    pytest.skip(why)


@dataclass(frozen=True)
class S3Server:
    """An S3 endpoint on localhost holding one empty bucket."""

    url: str
    bucket: str


#: Credentials for moto's server: moto accepts any; tests that plant a secret set their own.
S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    """An S3 endpoint (moto's server, in a thread of this process) with one empty bucket;
    ``AWS_ENDPOINT_URL`` names it to this process and so to a Ray started after it, for the module's tests."""
    import boto3
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the server's line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    # moto keeps its store per process, not per server: each module starts from an empty one.
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST")).close()
    with pytest.MonkeyPatch.context() as env:
        for key, value in {**S3_CREDENTIALS, "AWS_ENDPOINT_URL": url}.items():
            env.setenv(key, value)
        boto3.client("s3").create_bucket(Bucket="rs-clip-test")
        yield S3Server(url, "rs-clip-test")
    server.stop()


def _moto_auth(url: str, free_requests: str) -> None:
    """Set how many requests moto's server serves before it checks signatures and IAM policies (``inf``:
    never), as its ``INITIAL_NO_AUTH_ACTION_COUNT`` does at start-up."""
    request = urllib.request.Request(
        f"{url}/moto-api/reset-auth",
        data=free_requests.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    urllib.request.urlopen(request).close()


@pytest.fixture
def s3_reader(s3: S3Server) -> Callable[[], AbstractContextManager[str]]:
    """A context: inside it the environment holds the credentials of a user who may list the bucket and
    read under ``readable/`` only, and moto's server enforces IAM (so put the test's objects first); it
    yields the user's secret key, which no output may show."""
    import boto3

    @contextmanager
    def reader() -> Iterator[str]:
        iam = boto3.client("iam")
        user = f"reader-{os.getpid()}-{len(iam.list_users()['Users'])}"
        iam.create_user(UserName=user)
        allow = [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": f"arn:aws:s3:::{s3.bucket}/readable/*",
            },
            {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": f"arn:aws:s3:::{s3.bucket}"},
        ]
        iam.put_user_policy(
            UserName=user,
            PolicyName="read",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": allow}),
        )
        key = iam.create_access_key(UserName=user)["AccessKey"]
        with pytest.MonkeyPatch.context() as env:
            env.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
            env.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
            _moto_auth(s3.url, "0")
            try:
                yield key["SecretAccessKey"]
            finally:
                _moto_auth(s3.url, "inf")

    return reader
