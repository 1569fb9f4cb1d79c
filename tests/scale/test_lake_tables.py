"""Issue 20: a stage's output table is a folder of parts under a manifest (assets/lake.py). Readers see the old
table or the new one, never a mix: a generation's parts are invisible until its manifest is committed, and a
generation a killed run left behind is dropped by the next commit. Erasure may rewrite a part in place; the
manifest then counts its rows again."""

import pyarrow as pa
import pytest

from waterworks.assets.lake import MANIFEST, Lake


def _rows(*values: int) -> pa.Table:
    return pa.table({"id": pa.array(values, pa.int64()), "text": pa.array([f"t{v}" for v in values])})


def test_parts_become_the_table_only_when_committed(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    assert not lake.table_exists("sanitized", "documents") and lake.table_parts("sanitized", "documents") == []
    with pytest.raises(FileNotFoundError, match="no table"):
        lake.read_table("sanitized", "documents")

    first = lake.new_generation()
    for index, values in ((1, (3, 4)), (0, (1, 2))):  # workers finish in any order
        lake.write_part("sanitized", "documents", first, index, _rows(*values))
    assert not lake.table_exists("sanitized", "documents")  # written, not committed: no reader sees it
    lake.commit_table("sanitized", "documents", first, _rows().schema, {"stage": "test"})
    assert lake.read_table("sanitized", "documents").column("id").to_pylist() == [1, 2, 3, 4]  # part order
    assert lake.table_rows("sanitized", "documents") == 4 and lake.table_metadata("sanitized", "documents") == \
        {"stage": "test"}

    killed = lake.new_generation()  # a run killed after writing a part, before committing
    lake.write_part("sanitized", "documents", killed, 0, _rows(99))
    assert lake.read_table("sanitized", "documents").column("id").to_pylist() == [1, 2, 3, 4]
    second = lake.new_generation()
    lake.commit_table("sanitized", "documents", second, _rows().schema)  # no part: one empty part, the schema kept
    table = lake.read_table("sanitized", "documents")
    assert table.num_rows == 0 and table.schema.names == ["id", "text"]
    left = lake.list_parquet("sanitized", "documents/")
    assert left == lake.table_parts("sanitized", "documents") and all(second in p for p in left)  # others dropped
    assert (tmp_path / "lake" / "sanitized" / "documents" / MANIFEST).is_file()


def test_a_part_rewritten_in_place_is_recounted(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    lake.write_table("purified", "records", _rows(1, 2, 3))
    part = lake.table_parts("purified", "records")[0]
    lake.write_parquet("purified", part, _rows(1, 3))  # what erasure does to a part holding the person
    lake.part_rewritten("purified", part)
    assert lake.table_rows("purified", "records") == 2
    assert lake.delete_table("purified", "records") == 1 and not lake.table_exists("purified", "records")
