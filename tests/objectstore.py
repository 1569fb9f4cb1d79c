"""A throwaway S3-compatible object store for the tests: moto's server (from PyPI, `moto[s3]`) on a free
loopback port, in a thread of the test process, with the buckets asked for. While it runs, the environment
holds the credentials and endpoint that pyarrow (the lake), boto3 and MLflow (artifacts) read; they are
restored on exit."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "waterworks-test", "AWS_SECRET_ACCESS_KEY": "waterworks-test-secret",
               "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}


@dataclass(frozen=True)
class ObjectStore:
    endpoint: str    # http://127.0.0.1:PORT
    host_port: str   # 127.0.0.1:PORT

    def lake_uri(self, bucket: str, prefix: str) -> str:
        """A lake root as the settings take it: pyarrow's S3 URI with the endpoint in the query."""
        return f"s3://{bucket}/{prefix}?endpoint_override={self.host_port}&scheme=http&region=us-east-1"

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1")

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        paginator = self.client().get_paginator("list_objects_v2")
        return [item["Key"] for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
                for item in page.get("Contents", [])]


@contextmanager
def s3_server(buckets: tuple[str, ...]):
    from moto.server import ThreadedMotoServer

    saved = {k: os.environ.get(k) for k in (*CREDENTIALS, "MLFLOW_S3_ENDPOINT_URL")}
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        store = ObjectStore(f"http://{host}:{port}", f"{host}:{port}")
        os.environ.update(CREDENTIALS)
        os.environ["MLFLOW_S3_ENDPOINT_URL"] = store.endpoint
        for bucket in buckets:
            store.client().create_bucket(Bucket=bucket)
        yield store
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
