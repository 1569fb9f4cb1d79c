import codecs

import pytest

from waterworks.assets.source.catalog import SourceFormat, SourceSpec
from waterworks.assets.source.encoding import NotTextError, detect_encoding
from waterworks.assets.source.readers import read_csv

ROWS = [
    ("C001", "周建国", "北京市朝阳区建国路88号", "请尽快回电，谢谢！"),
    ("C002", "李嘉欣", "台北市信義區松仁路100號", "客戶資料已更新。"),
    ("C003", "王小明", "广州市天河区体育西路", "订单已发货，物流单号见附件。"),
    ("C004", "陳美玲", "高雄市前鎮區中山二路", "會員等級：金卡"),
] * 5


def _spec(encoding: str = "auto") -> SourceSpec:
    return SourceSpec(id="t", description="t", owner="team:t", classification="internal", legal_basis="test",
                      retention_days=1, patterns=("*.csv",), format=SourceFormat.csv, encoding=encoding)


def _csv_text() -> str:
    return "id,name,address,note\n" + "".join(",".join(r) + "\n" for r in ROWS)


@pytest.mark.parametrize(("codec", "bom", "expected"), [
    ("utf-8", b"", "utf-8"),
    ("utf-8", codecs.BOM_UTF8, "utf-8-sig"),
    ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16"),
    ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16"),
    ("utf-16-le", b"", "utf-16-le"),
    ("gb18030", b"", "gb18030"),
])
def test_auto_detection_round_trips_chinese_exactly(tmp_path, codec, bom, expected):
    text = _csv_text()
    if codec == "gb18030":
        text = text.replace("陳美玲", "陈美玲").replace("臺", "台")  # simplified export
    path = tmp_path / "export.csv"
    path.write_bytes(bom + text.encode(codec))
    result = read_csv(path, _spec())
    assert result.encoding.encoding == expected
    assert result.quarantined == []
    names = result.table.column("name").to_pylist()
    notes = result.table.column("note").to_pylist()
    expected_rows = [line.split(",") for line in text.splitlines()[1:]]
    assert names == [r[1] for r in expected_rows]
    assert notes == [r[3] for r in expected_rows]


def test_big5_detected_and_round_trips(tmp_path):
    traditional = "id,name,address,note\n" + "".join(
        f"T{i:03d},陳美玲,台北市信義區松仁路{i}號,會員資料已更新，請聯絡客服中心。\n" for i in range(20))
    path = tmp_path / "tw.csv"
    path.write_bytes(traditional.encode("big5"))
    result = read_csv(path, _spec())
    assert result.encoding.encoding == "big5"
    assert result.table.column("address").to_pylist()[3] == "台北市信義區松仁路3號"
    assert result.table.column("note").to_pylist()[0] == "會員資料已更新，請聯絡客服中心。"


def test_declared_encoding_quarantines_only_the_bad_line(tmp_path):
    lines = ["id,name", "1,陳美玲", "2,李嘉欣", "3,王小明"]
    data = b"\n".join(line.encode("big5") for line in lines).replace("李".encode("big5"), b"\x80\xff")
    path = tmp_path / "partial.csv"
    path.write_bytes(data)
    result = read_csv(path, _spec("big5"))
    assert result.table.column("name").to_pylist() == ["陳美玲", "王小明"]
    assert [(q.position, q.record_index) for q in result.quarantined] == [("line 3", 1)]
    assert "invalid bytes for big5" in result.quarantined[0].reason
    assert result.units_in == 3


def test_binary_and_empty_are_not_text():
    with pytest.raises(NotTextError, match="binary"):
        detect_encoding(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    with pytest.raises(NotTextError, match="empty"):
        detect_encoding(b"")


def test_mostly_utf8_file_with_a_corrupt_line_stays_utf8():
    good = "姓名,城市\n" + "".join(f"张伟{i},上海\n" for i in range(30))
    data = good.encode("utf-8") + b"\xff\xfe broken,line\n"
    assert detect_encoding(data).encoding == "utf-8"
