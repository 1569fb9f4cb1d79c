"""The Dagster resources the assets use: the lake and the landing folder. pipelines/resources.py picks their
values per profile."""

from pathlib import Path

import dagster as dg

from .lake import Lake
from .source.catalog import SourceCatalog, load_catalog
from .source.landing import LandingFile, file_sha256


class LakeResource(dg.ConfigurableResource):
    """The lake root: a local folder (local profile) or an object-store URI (production)."""

    root: str

    def lake(self) -> Lake:
        return Lake(self.root)


class LandingResource(dg.ConfigurableResource):
    """The landing folder and the sources config that routes its files."""

    landing_dir: str
    sources_file: str

    def catalog(self) -> SourceCatalog:
        return load_catalog(self.sources_file)

    def file(self, relpath: str) -> LandingFile:
        """The landing file behind a partition key, hashed now (the bytes we are about to read)."""
        path = Path(self.landing_dir) / relpath
        if not path.is_file():
            raise dg.Failure(f"landing file {relpath} no longer exists in {self.landing_dir}")
        stat = path.stat()
        return LandingFile(relpath, path, stat.st_size, stat.st_mtime_ns, file_sha256(path))
