"""Every normalisation variant, run in DuckDB (the Spark parity test covers the other engine)."""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis
import pyarrow as pa

from dixian.ingest import normalise as nz


def _apply(values: list[str | None], build: Any) -> list[Any]:
    table = ibis.memtable(pa.table({"v": pa.array(values, pa.string())}))
    staged = table.mutate(c=nz.strip_time(nz.compact(table.v)))
    result = staged.mutate(out=build(staged))
    return ibis.duckdb.connect().to_pyarrow(result.out).to_pylist()


_DATES = [
    ("2020-01-02", date(2020, 1, 2)),
    ("2020/1/2", date(2020, 1, 2)),
    ("2020.1.2", date(2020, 1, 2)),
    ("20200102", date(2020, 1, 2)),
    ("2020年1月2日", date(2020, 1, 2)),
    ("２０２０－０１－０２", date(2020, 1, 2)),
    (" 2020-01-02 ", date(2020, 1, 2)),
    ("2020-01-02 00:00:00", date(2020, 1, 2)),
    ("43832", date(2020, 1, 2)),  # Excel serial
    ("43832.0", date(2020, 1, 2)),
    ("2024-03", date(2024, 3, 1)),
    ("2024年3月", date(2024, 3, 1)),
    ("202403", date(2024, 3, 1)),
    ("2020-02-30", None),
    ("2020-13-01", None),
    ("yesterday", None),
    (None, None),
]


def test_date_variants() -> None:
    got = _apply([text for text, _ in _DATES], lambda t: nz.parse_date(t.c))
    assert dict(zip([text for text, _ in _DATES], got, strict=True)) == dict(_DATES)


_AMOUNTS = [
    ("12000", 1.0, 12000.0),
    ("12,000.50", 1.0, 12000.5),
    ("1.2万元", 1.0, 12000.0),
    ("1.2万", 1.0, 12000.0),
    ("3千元", 1.0, 3000.0),
    ("800元", 1.0, 800.0),
    ("500元/月", 1.0, 500.0),
    ("￥300", 1.0, 300.0),
    ("１２", 1.0, 12.0),
    ("-5", 1.0, -5.0),
    ("0.05", 10_000.0, 500.0),  # a bare number under a 万元 header
    ("800元", 10_000.0, 800.0),  # an explicit unit wins over the header
    ("abc", 1.0, None),
    ("1.2.3", 1.0, None),
]


def test_amount_variants() -> None:
    for factor in (1.0, 10_000.0):
        cases = [(text, expected) for text, f, expected in _AMOUNTS if f == factor]
        got = _apply(
            [t for t, _ in cases], lambda t, f=factor: nz.parse_amount(t.c, default_factor=f)
        )
        assert dict(zip([t for t, _ in cases], got, strict=True)) == dict(cases)


def test_integers_numbers_and_booleans() -> None:
    values = ["3", "3.0", "３", "3.5", "x", None]
    assert _apply(values, lambda t: nz.parse_int(t.c)) == [3, 3, 3, None, None, None]
    assert _apply(values, lambda t: nz.parse_float(t.c)) == [3.0, 3.0, 3.0, 3.5, None, None]
    flags = ["是", "否", "有", "无", "Y", "n", "TRUE", "0", "也许"]
    assert _apply(flags, lambda t: nz.parse_bool(t.c)) == [
        True, False, True, False, True, False, True, False, None
    ]  # fmt: skip


def test_text_width_whitespace_and_keys() -> None:
    values = ["  張　偉 ", "ＡＢＣ１２３", "陳麗華", "", "  "]
    assert _apply(values, lambda t: nz.clean_text(t.v)) == ["張 偉", "ABC123", "陳麗華", None, None]
    assert _apply(values, lambda t: nz.compact(t.v)) == ["張偉", "ABC123", "陳麗華", None, None]
    assert _apply(values, lambda t: nz.match_key(t.v)) == ["张伟", "ABC123", "陈丽华", None, None]
    assert [nz.python_match_key(v) for v in values[:3]] == ["张伟", "ABC123", "陈丽华"]


def _ids(values: list[str | None]) -> Any:
    """Normalised ID numbers staged as columns, the way validation computes them."""
    table = ibis.memtable(pa.table({"v": pa.array(values, pa.string())}))
    table = table.mutate(u=nz.compact(table.v).replace("-", "").upper())
    table = table.mutate(b=nz.id_body_of_15(table.u))
    table = table.mutate(n=ibis.ifelse(table.b.notnull(), nz.id_with_check(table.b), table.u))
    return table.mutate(e=nz.id_number_error(table.n, today=date(2026, 1, 1)))


def _id_with_check(body: str) -> str:
    weights = nz.ID_WEIGHTS
    return (
        body + nz.ID_CHECK_CHARS[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    )


def test_id_numbers_normalised_upgraded_and_checked() -> None:
    valid = _id_with_check("52272219800101001")
    lower_x = _id_with_check("11010519491231002")  # GB 11643's own example ends in X
    assert lower_x.endswith("X")
    fifteen = "522722800101001"
    upgraded = _id_with_check("52272219800101001")
    transposed = valid[:10] + valid[11] + valid[10] + valid[12:]
    bad_date = _id_with_check("52272220991301001")
    bad_province = _id_with_check("99272219800101001")
    values = [valid, lower_x.lower(), "５２２７２２ 8001 01001", fifteen, transposed, "12345",
              "", None, bad_date, bad_province]  # fmt: skip
    checked = ibis.duckdb.connect().to_pyarrow(_ids(values)).to_pylist()
    assert [row["n"] for row in checked[:4]] == [valid, lower_x, upgraded, upgraded]
    assert [row["e"] for row in checked] == [None, None, None, None, "check_character",
                                              "length", "empty", "empty", "birth_date",
                                              "region"]  # fmt: skip
    assert _apply([fifteen], lambda t: nz.normalise_id_number(t.c)) == [upgraded]
    births = _apply([valid], lambda t: nz.id_birth_date(t.c))
    sexes = _apply([valid, lower_x], lambda t: nz.id_sex(t.c))
    assert births == [date(1980, 1, 1)] and sexes == ["M", "F"]


def test_id_checks_agree_with_dixian_ids() -> None:
    from dixian.ids import validate_id_number

    valid = _id_with_check("52272219800101001")
    samples = [valid, valid.lower(), valid[:6] + "-" + valid[6:], valid[:-1] + "0",
               valid[:9] + valid[10] + valid[9] + valid[11:], "522722800101001", "52272280010100X",
               "12345", "", "５２２７２２１９８００１０１００１" + valid[-1], valid + "1",
               _id_with_check("52272219800231001"), _id_with_check("52272218800101001"),
               _id_with_check("99272219800101001"), "52272219800101001A"]  # fmt: skip
    today = date(2026, 1, 1)
    rows = ibis.duckdb.connect().to_pyarrow(_ids(samples)).to_pylist()
    for text, row in zip(samples, rows, strict=True):
        expected = validate_id_number(text, today=today, repairs=False)
        code = expected.error.code if expected.error else None
        assert row["e"] == code, text
        if code is None:
            assert row["n"] == expected.normalised, text
