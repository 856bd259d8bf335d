"""Readers: CSV in UTF-8/BOM/GBK, XLSX with title rows and merged headers, Parquet, a database."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dixian.errors import FeedValidationError
from dixian.ingest import detect_encoding, open_feed, read_database, read_xlsx
from dixian.ingest.readers import RawSheet

_ROWS = [
    ["张三", "52272219800101001X", "2020年1月2日", "1.2万元"],
    ["李四", "522722198002020022", "2020/1/2", "800"],
    ["王五", "", "20200102", "３千元"],
]
_HEADER = ["姓名", "身份证号", "日期", "金额"]


def _collect(sheet: RawSheet) -> pa.Table:
    return pa.Table.from_batches(list(sheet.batches()))


def _cells(table: pa.Table) -> list[list[str | None]]:
    width = len([n for n in table.column_names if n.startswith("c")])
    return [[table.column(f"c{i}")[r].as_py() for i in range(width)] for r in range(table.num_rows)]


def _write_csv(path: Path, rows: list[list[str]], encoding: str) -> None:
    text = "\r\n".join(",".join(row) for row in rows) + "\r\n"
    path.write_bytes(text.encode(encoding))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_every_common_encoding_reads_the_same(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "2024-01.csv"
    _write_csv(path, [_HEADER, *_ROWS] * 1, encoding)
    detected = detect_encoding(path)
    expected = {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "gbk": "gb18030", "gb18030": "gb18030"}
    assert detected == expected[encoding]
    (sheet,) = open_feed(path, source_file="a/b/2024-01.csv")
    assert sheet.columns == _HEADER
    table = _collect(sheet)
    assert _cells(table) == [[c or None for c in row] for row in _ROWS]
    assert table.column("_row_number").to_pylist() == [1, 2, 3]


def test_gbk_detected_in_a_large_file_with_a_cut_multibyte_sample(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    _write_csv(path, [_HEADER] + _ROWS * 40_000, "gbk")
    assert detect_encoding(path) == "gb18030"
    (sheet,) = open_feed(path, source_file="big.csv")
    table = _collect(sheet)
    assert table.num_rows == 120_000
    assert table.column("_row_number").to_pylist() == list(range(1, 120_001))
    assert table.column("c0")[119_999].as_py() == "王五"


def test_csv_title_row_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    _write_csv(path, [["2024年1月低保发放名册", "", "", ""], _HEADER, *_ROWS], "utf-8")
    (sheet,) = open_feed(path, source_file="t.csv")
    assert sheet.columns == _HEADER
    assert sheet.header is not None and sheet.header.data_start == 2
    assert _collect(sheet).num_rows == 3


def test_csv_ragged_rows_are_kept_with_a_parse_error_and_true_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    rows = [_HEADER, _ROWS[0], ["赵六", "1", "2", "3", "extra"], _ROWS[1], ["孙七"], _ROWS[2]]
    _write_csv(path, rows, "utf-8")
    (sheet,) = open_feed(path, source_file="r.csv")
    table = _collect(sheet).sort_by("_row_number")
    assert table.column("_row_number").to_pylist() == [1, 2, 3, 4, 5]
    errors = table.column("_parse_error").to_pylist()
    assert errors[0] is None and errors[2] is None and errors[4] is None
    assert "found 5" in errors[1] and "found 1" in errors[3]
    assert table.column("c0").to_pylist() == ["张三", "赵六", "李四", "孙七", "王五"]


def test_csv_encoding_override(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    _write_csv(path, [_HEADER, *_ROWS], "gbk")
    (sheet,) = open_feed(path, source_file="o.csv", encoding="gb18030")
    assert sheet.encoding == "gb18030"
    assert _cells(_collect(sheet))[0][0] == "张三"


def test_xlsx_title_row_and_merged_two_row_header_are_flattened(tmp_path: Path) -> None:
    import xlsxwriter

    path = tmp_path / "m.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("低保")
    sheet.merge_range(0, 0, 0, 4, "2024年1月城乡低保名册")
    sheet.merge_range(1, 0, 2, 0, "序号")
    sheet.merge_range(1, 1, 1, 2, "户主信息")
    sheet.write(2, 1, "姓名")
    sheet.write(2, 2, "身份证号")
    sheet.merge_range(1, 3, 2, 3, "发放日期")
    sheet.merge_range(1, 4, 2, 4, "金额（元）")
    sheet.write_row(3, 0, [1, "张三", "52272219800101001X"])
    sheet.write_datetime(3, 3, date(2024, 1, 5), book.add_format({"num_format": "yyyy-mm-dd"}))
    sheet.write(3, 4, 12000)
    sheet.write_row(4, 0, [2, "李四", "522722198002020022", "2024/1/5", 800.5])
    # An unformatted date is stored as an Excel serial number and read as its text.
    sheet.write_row(5, 0, [3, "王五", None, date(2024, 1, 5), None])
    other = book.add_worksheet("第二页")
    other.write_row(0, 0, ["姓名", "身份证号"])
    other.write_row(1, 0, ["王五", "522722198003030033"])
    book.add_worksheet("空表")
    book.close()
    sheets = read_xlsx(path, source_file="civil/dibao/2024-01.xlsx")
    assert [s.sheet for s in sheets] == ["低保", "第二页"]
    first = sheets[0]
    assert first.columns == ["序号", "户主信息/姓名", "户主信息/身份证号", "发放日期", "金额（元）"]
    assert _cells(_collect(first)) == [
        ["1", "张三", "52272219800101001X", "2024-01-05", "12000"],
        ["2", "李四", "522722198002020022", "2024/1/5", "800.5"],
        ["3", "王五", None, "45296", None],
    ]
    second = _collect(sheets[1])
    assert sheets[1].columns == ["姓名", "身份证号"]
    assert second.column("_row_number").to_pylist() == [1]


def test_xlsx_two_row_header_without_merges_is_recognised_by_shape(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "n.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["序号", "户主信息", None, "金额"])
    sheet.append([None, "姓名", "身份证号", None])
    sheet.append([1, "张三", "52272219800101001X", 5])
    book.save(path)
    (raw,) = read_xlsx(path, source_file="n.xlsx")
    assert raw.columns == ["序号", "户主信息/姓名", "户主信息/身份证号", "金额"]
    assert _collect(raw).num_rows == 1


def test_parquet_typed_columns_become_text(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    table = pa.table(
        {
            "姓名": ["张三", None],
            "金额": [12000.0, 800.5],
            "人数": pa.array([3, 4], pa.int64()),
            "日期": pa.array([date(2024, 1, 5), None], pa.date32()),
        }
    )
    pq.write_table(table, path)
    (sheet,) = open_feed(path, source_file="p.parquet")
    assert sheet.columns == ["姓名", "金额", "人数", "日期"]
    assert _cells(_collect(sheet)) == [
        ["张三", "12000", "3", "2024-01-05"],
        [None, "800.5", "4", None],
    ]


def test_database_table_and_query(tmp_path: Path) -> None:
    db = tmp_path / "dept.sqlite"
    with sqlite3.connect(db) as connection:
        connection.execute("create table dibao (姓名 text, 金额 real)")
        connection.executemany(
            "insert into dibao values (?, ?)", [("张三", 12000.0), ("李四", None)]
        )
    url = f"sqlite:///{db}"
    sheet = read_database(url, table="dibao")
    assert sheet.source_file == "db:dibao" and sheet.columns == ["姓名", "金额"]
    assert _cells(_collect(sheet)) == [["张三", "12000"], ["李四", None]]
    query = read_database(url, query="select 姓名 from dibao where 金额 > 1")
    assert _cells(_collect(query)) == [["张三"]]
    with pytest.raises(FeedValidationError):
        read_database(url)


def test_unsupported_and_broken_files_are_user_errors(tmp_path: Path) -> None:
    odd = tmp_path / "x.doc"
    odd.write_text("?")
    with pytest.raises(FeedValidationError, match=r"x.doc.*unsupported"):
        open_feed(odd, source_file="x.doc")
    broken = tmp_path / "y.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(FeedValidationError, match=r"y\.xlsx"):
        open_feed(broken, source_file="y.xlsx")
