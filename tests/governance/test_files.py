"""The one atomic writer: readers see the old content or the new, a failure leaves the target as it was and no
temporary behind, files are created owner-only unless a mode is given."""

import os
import stat

import pytest

from waterworks.governance.files import build_folder, replace_atomically, write_atomically


def _listing(folder):
    return sorted(p.name for p in folder.iterdir())


def test_write_replaces_the_content_owner_only(tmp_path):
    target = tmp_path / "current.json"
    write_atomically(target, "一")
    write_atomically(target, b"two")
    assert target.read_bytes() == b"two" and _listing(tmp_path) == ["current.json"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    write_atomically(target, "three", mode=0o640)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "table.parquet"
    target.write_bytes(b"old")

    def half_then_fail(temp):
        with open(temp, "wb") as out:
            out.write(b"ne")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        replace_atomically(target, half_then_fail)
    assert target.read_bytes() == b"old" and _listing(tmp_path) == ["table.parquet"]


def test_a_failed_folder_leaves_nothing(tmp_path):
    def fill(folder):
        (folder / "weights.bin").write_bytes(b"x")
        raise RuntimeError("training failed")

    with pytest.raises(RuntimeError):
        build_folder(tmp_path / "model", fill)
    assert _listing(tmp_path) == []
    assert build_folder(tmp_path / "model", lambda f: (f / "a").write_text("ok")) == 2
    assert _listing(tmp_path) == ["model"] and os.listdir(tmp_path / "model") == ["a"]
