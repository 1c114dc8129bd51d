"""Blob backend on any S3-compatible service (boto3). Bytes are hashed while streaming
to a temporary key, then copied to ``<prefix>/sha256/<hex>`` only when the digest
matches, so readers never see a partial or wrong object. Upload parts are objects under
``<prefix>/uploads/<session>/``; downloads can be handed out as presigned URLs."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import BinaryIO
from urllib.parse import parse_qs, urlparse

from .base import CHUNK, BlobNotFound, BlobStore, LimitedReader, check_digest, check_name, check_range, verify

_PART = 8 * 1024 * 1024
_MISSING = ("404", "NoSuchKey", "NotFound")


class S3BlobStore(BlobStore):
    def __init__(self, url: str) -> None:
        import boto3  # only needed when this backend is configured
        from botocore.config import Config

        parsed = urlparse(url)
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")
        self.client = boto3.session.Session().client(  # own session: credentials as of now, not cached
            "s3",
            endpoint_url=query.get("endpoint"),
            region_name=query.get("region", "us-east-1"),
            config=Config(
                signature_version="s3v4",
                max_pool_connections=32,
                s3={"addressing_style": query.get("addressing", "path")},
            ),
        )

    def _join(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    def _key(self, digest: str) -> str:
        return self._join("sha256", check_digest(digest).split(":", 1)[1])

    def put(self, stream: BinaryIO, expected_digest: str | None = None) -> tuple[str, int]:
        if expected_digest is not None:
            check_digest(expected_digest)
        temp = self._join("tmp", uuid.uuid4().hex)
        digest, size = self._write(temp, stream)
        try:
            verify(digest, expected_digest)
            self.client.copy({"Bucket": self.bucket, "Key": temp}, self.bucket, self._key(digest))
        finally:
            self.client.delete_object(Bucket=self.bucket, Key=temp)
        return digest, size

    def _write(self, key: str, stream: BinaryIO) -> tuple[str, int]:
        """Stream into ``key`` as a multipart upload (aborted on any error); return (digest, size)."""
        h, size = hashlib.sha256(), 0
        upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)
        parts, number, buffer = [], 1, bytearray()
        try:
            while True:
                chunk = stream.read(CHUNK)
                if chunk:
                    h.update(chunk)
                    size += len(chunk)
                    buffer += chunk
                if len(buffer) >= _PART or (not chunk and (buffer or not parts)):
                    answer = self.client.upload_part(
                        Bucket=self.bucket, Key=key, UploadId=upload["UploadId"], PartNumber=number, Body=bytes(buffer)
                    )
                    parts.append({"ETag": answer["ETag"], "PartNumber": number})
                    number, buffer = number + 1, bytearray()
                if not chunk:
                    break
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
            )
        except BaseException:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload["UploadId"])
            raise
        return "sha256:" + h.hexdigest(), size

    def open(self, digest: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        end = check_range(self.size(digest), start, end)
        if end < start:
            return iter(())
        body = self.client.get_object(Bucket=self.bucket, Key=self._key(digest), Range=f"bytes={start}-{end}")["Body"]
        return _chunks(body)

    def exists(self, digest: str) -> bool:
        try:
            self.size(digest)
            return True
        except BlobNotFound:
            return False

    def size(self, digest: str) -> int:
        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=self._key(digest))["ContentLength"])
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise BlobNotFound(f"blob {digest} not found") from None
            raise

    def delete(self, digest: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(digest))

    def iterate(self) -> Iterator[str]:
        for item in self._list(self._join("sha256") + "/"):
            yield "sha256:" + item["Key"].rsplit("/", 1)[1]

    def _list(self, prefix: str) -> Iterator[dict]:
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            yield from page.get("Contents", [])

    def put_part(self, session: str, name: str, stream: BinaryIO, limit: int) -> int:
        key = self._join("uploads", check_name(session), check_name(name))
        return self._write(key, LimitedReader(stream, limit))[1]

    def open_part(self, session: str, name: str) -> Iterator[bytes]:
        key = self._join("uploads", check_name(session), check_name(name))
        try:
            return _chunks(self.client.get_object(Bucket=self.bucket, Key=key)["Body"])
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise BlobNotFound(f"part {name} of upload {session} not found") from None
            raise

    def delete_parts(self, session: str, names: list[str] | None = None) -> None:
        folder = self._join("uploads", check_name(session))
        if names is None:
            keys = [{"Key": item["Key"]} for item in self._list(folder + "/")]
        else:
            keys = [{"Key": f"{folder}/{check_name(name)}"} for name in names]
        for start in range(0, len(keys), 1000):
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys[start : start + 1000]})

    def staged_sessions(self) -> Iterator[tuple[str, float]]:
        newest: dict[str, float] = {}
        base = self._join("uploads") + "/"
        for item in self._list(base):
            session = item["Key"][len(base) :].split("/", 1)[0]
            newest[session] = max(newest.get(session, 0.0), item["LastModified"].timestamp())
        yield from newest.items()

    def abort_stale(self, older_than: float) -> int:
        cutoff, aborted = datetime.fromtimestamp(older_than, UTC), 0
        paginator = self.client.get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + "/" if self.prefix else ""):
            for upload in page.get("Uploads", []):
                if upload["Initiated"] < cutoff:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    aborted += 1
        for item in self._list(self._join("tmp") + "/"):
            if item["LastModified"] < cutoff:
                self.client.delete_object(Bucket=self.bucket, Key=item["Key"])
                aborted += 1
        return aborted

    def upload_part_url(self, session: str, name: str, expires: int) -> str | None:
        key = self._join("uploads", check_name(session), check_name(name))
        return self.client.generate_presigned_url(
            "put_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=int(expires)
        )

    def download_url(self, digest: str, expires: int, filename: str | None = None) -> str | None:
        params = {"Bucket": self.bucket, "Key": self._key(digest)}
        if filename:
            params["ResponseContentDisposition"] = f'inline; filename="{_header_safe(filename)}"'
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=int(expires))


def _header_safe(name: str) -> str:
    return name.encode("ascii", "replace").decode().replace('"', "_").replace("\r", "_").replace("\n", "_")


def _chunks(body) -> Iterator[bytes]:
    try:
        while chunk := body.read(CHUNK):
            yield chunk
    finally:
        body.close()
