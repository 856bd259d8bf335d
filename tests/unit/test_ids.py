"""Resident ID numbers (GB 11643) and region codes: scalar, Arrow, Ibis and CLI."""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Any

import ibis
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dixian.errors import InvalidIdentifier
from dixian.ids import (
    PROVINCE_CODES,
    RegionCode,
    check_character,
    convert_15_to_18,
    ibis_check_id_numbers,
    ibis_in_jurisdiction,
    ibis_normalise_id_number,
    in_jurisdiction,
    is_valid_id_number,
    is_valid_region_code,
    make_id_number,
    mask_id_number,
    normalise_id_number,
    normalise_region_code,
    parse_id_number,
    region_ancestors,
    region_level,
    region_parent,
    repair_candidates,
    validate_id_number,
    validate_id_numbers,
)
from tests.conftest import run_cli

TODAY = date(2026, 6, 30)
SAMPLE = "11010519491231002X"  # the example printed in GB 11643-1999


# --- check character and validation -------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "check"),
    [
        ("11010519491231002", "X"),  # GB 11643 example
        ("44052418800101001", "4"),  # GB 11643 example
        ("36042619910101007", "1"),  # python-stdnum doctest
    ],
)
def test_check_character_of_published_examples(body: str, check: str) -> None:
    assert check_character(body) == check


@pytest.mark.parametrize(
    "body", ["1101051949123100", "1101051949123100X", "１１０１０５１９４９１２３１００２"]
)
def test_check_character_refuses_a_body_that_is_not_17_ascii_digits(body: str) -> None:
    with pytest.raises(InvalidIdentifier):
        check_character(body)


def test_valid_sample_is_parsed() -> None:
    result = validate_id_number(SAMPLE, today=TODAY)
    assert result.valid
    assert result.error is None
    assert result.birth_date == date(1949, 12, 31)
    assert result.sex == "F"
    assert result.region == "110105"
    assert result.repairs == ()


@pytest.mark.parametrize(
    "typed",
    [
        "11010519491231002x",
        " 110105 19491231 002X ",
        "110105-19491231-002x",
        "１１０１０５１９４９１２３１００２ｘ",
        "１１０１０５\u300019491231\uff0d002Ｘ",
    ],
)
def test_normalisation_of_typed_forms(typed: str) -> None:
    assert normalise_id_number(typed) == SAMPLE
    assert validate_id_number(typed, today=TODAY).normalised == SAMPLE


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        (None, "empty"),
        ("  - ", "empty"),
        ("1101051949123100", "length"),
        ("11010519491231002X1", "length"),
        ("1101051949123100ZX", "characters"),
        ("11010519491231002Y", "characters"),
        ("1101051949123100X2", "characters"),
        ("11010519491231002é", "characters"),
        ("11010549123100Z", "characters"),  # 15 characters, not all digits
        ("110105194912310021", "check_character"),
        ("11010519491213002X", "check_character"),  # day and month digits swapped
        (
            make_id_number("110105", date(1949, 12, 31), 2)[:6] + "19490231002" + "0",
            "check_character",
        ),
        ("440524188001010014", "birth_date"),  # valid checksum, born before 1890
        ("110105190002290017", "birth_date"),  # 1900 is not a leap year
        ("11010520260701001X", "birth_date"),  # after TODAY
        ("000105194912310024", "region"),  # province 00 does not exist
        ("990105194912310023", "region"),
    ],
)
def test_every_error_kind(text: str | None, code: str) -> None:
    result = validate_id_number(text, today=TODAY)
    assert not result.valid
    assert result.error is not None
    assert result.error.code == code
    assert result.error.message_zh and result.error.message_en
    assert result.birth_date is None and result.sex is None and result.region is None


def test_error_fixtures_have_the_checksum_the_test_claims() -> None:
    # The birth_date and region cases must pass the check character, or the test would
    # really be exercising the checksum.
    for number in ["440524188001010014", "110105190002290017", "11010520260701001X"]:
        assert check_character(number[:17]) == number[17]
    for number in ["000105194912310024", "990105194912310023", "110105194902310026"]:
        assert check_character(number[:17]) == number[17]


def test_unknown_county_code_is_accepted() -> None:
    # Checklist ID-02: an abolished county code stays valid; only the province is checked.
    number = make_id_number("529999", date(1970, 5, 1), 11)
    result = validate_id_number(number, today=TODAY)
    assert result.valid and result.region == "529999"


def test_residence_permit_of_taiwan_residents_is_valid() -> None:
    number = make_id_number("830000", date(1985, 3, 3), 123)
    assert validate_id_number(number, today=TODAY).valid


def test_sex_from_sequence_parity() -> None:
    man = make_id_number("522799", date(1980, 1, 1), 17)
    woman = make_id_number("522799", date(1980, 1, 1), 18)
    assert validate_id_number(man, today=TODAY).sex == "M"
    assert validate_id_number(woman, today=TODAY).sex == "F"


def test_parse_raises_with_masked_number_and_reason() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        parse_id_number("110105194912310021", today=TODAY)
    message = str(caught.value)
    assert "check_character" in message
    assert "110105194912310021" not in message  # never the full number (checklist ID-05)
    assert "110105********0021" in message


def test_parse_gives_the_parts() -> None:
    parsed = parse_id_number(SAMPLE, today=TODAY)
    assert (parsed.region, parsed.birth_date, parsed.sequence, parsed.sex, parsed.check) == (
        "110105",
        date(1949, 12, 31),
        2,
        "F",
        "X",
    )


def test_is_valid_id_number() -> None:
    assert is_valid_id_number(SAMPLE, today=TODAY)
    assert not is_valid_id_number("110105194912310021", today=TODAY)


# --- 15 → 18 ------------------------------------------------------------------------------


def test_convert_15_to_18_of_the_sample() -> None:
    assert convert_15_to_18("110105491231002") == SAMPLE
    assert convert_15_to_18(" １１０１０５４９１２３１００２ ") == SAMPLE


def test_convert_15_to_18_with_another_century() -> None:
    number = convert_15_to_18("110105010203005", century=20)
    assert number[6:14] == "20010203"
    assert validate_id_number(number, today=TODAY).valid


@pytest.mark.parametrize(
    "text", ["11010549123100", "1101054912310021", "11010549123100A", "110105490230002"]
)
def test_convert_15_to_18_refuses_bad_input(text: str) -> None:
    with pytest.raises(InvalidIdentifier):
        convert_15_to_18(text)


def test_validate_upgrades_15_digit_numbers() -> None:
    result = validate_id_number("110105491231002", today=TODAY)
    assert result.valid and result.converted_from_15
    assert result.normalised == SAMPLE
    refused = validate_id_number("110105491231002", today=TODAY, accept_15=False)
    assert not refused.valid and refused.error is not None and refused.error.code == "length"


def test_15_digit_number_with_impossible_date_is_invalid() -> None:
    result = validate_id_number("110105000229001", today=TODAY)  # 1900-02-29
    assert not result.valid and result.error is not None and result.error.code == "birth_date"
    assert result.normalised == "110105190002290017"


# --- repairs ------------------------------------------------------------------------------


def test_repairs_of_a_swapped_date_contain_the_original() -> None:
    result = validate_id_number("11010519491213002X", today=TODAY)
    assert SAMPLE in result.repairs
    assert list(result.repairs) == sorted(set(result.repairs))
    assert all(validate_id_number(candidate, today=TODAY).valid for candidate in result.repairs)


def test_repairs_of_a_wrong_check_character_contain_the_original() -> None:
    assert SAMPLE in repair_candidates("110105194912310021", today=TODAY)


def test_repairs_of_a_letter_typed_for_a_digit() -> None:
    result = validate_id_number("11010519491231OO2X", today=TODAY)
    assert result.error is not None and result.error.code == "characters"
    assert result.repairs == ()  # two letters: not one typing error away
    result = validate_id_number("110105194912310O2X", today=TODAY)
    assert SAMPLE in result.repairs


def test_no_repairs_for_valid_numbers_or_other_lengths() -> None:
    assert repair_candidates(SAMPLE, today=TODAY) == []
    assert repair_candidates("1101051949123100", today=TODAY) == []
    assert validate_id_number("440524188001010014", today=TODAY).repairs == ()


# --- masking ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (SAMPLE, "110105********002X"),
        ("11010519491231002x", "110105********002X"),
        ("110105491231002", "110105*****1002"),
        ("1234567890", "**********"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_id_number(text: str | None, masked: str) -> None:
    assert mask_id_number(text) == masked


# --- properties ---------------------------------------------------------------------------

provinces = st.sampled_from(sorted(PROVINCE_CODES))
regions6 = st.builds(
    lambda p, rest: p + rest, provinces, st.from_regex(r"[0-9]{4}", fullmatch=True)
)
birth_dates = st.dates(min_value=date(1890, 1, 1), max_value=TODAY)
sequences = st.integers(min_value=0, max_value=999)
valid_numbers = st.builds(make_id_number, regions6, birth_dates, sequences)


@settings(deadline=None)
@given(regions6, birth_dates, sequences)
def test_make_validate_parse_round_trip(region6: str, born: date, sequence: int) -> None:
    number = make_id_number(region6, born, sequence)
    parsed = parse_id_number(number, today=TODAY)
    assert (parsed.region, parsed.birth_date, parsed.sequence) == (region6, born, sequence)
    assert parsed.sex == ("M" if sequence % 2 else "F")
    assert normalise_id_number(number.lower()) == number


@settings(deadline=None)
@given(valid_numbers)
def test_every_single_substitution_is_detected(number: str) -> None:
    for position in range(18):
        for char in "0123456789X":
            if char != number[position]:
                changed = number[:position] + char + number[position + 1 :]
                result = validate_id_number(changed, today=TODAY, repairs=False)
                assert not result.valid
                assert result.error is not None
                assert result.error.code in ("check_character", "characters")


@settings(deadline=None)
@given(valid_numbers)
def test_every_adjacent_transposition_is_detected(number: str) -> None:
    for position in range(17):
        left, right = number[position], number[position + 1]
        if left != right:
            swapped = number[:position] + right + left + number[position + 2 :]
            assert not validate_id_number(swapped, today=TODAY, repairs=False).valid


@settings(max_examples=60, deadline=None)
@given(valid_numbers, st.data())
def test_repairs_of_a_corrupted_number_contain_the_original(number: str, data: Any) -> None:
    position = data.draw(st.integers(min_value=0, max_value=17))
    if data.draw(st.booleans()) and position < 17 and number[position] != number[position + 1]:
        corrupted = (
            number[:position] + number[position + 1] + number[position] + number[position + 2 :]
        )
    else:
        alphabet = "0123456789X" if position == 17 else "0123456789"
        char = data.draw(st.sampled_from([c for c in alphabet if c != number[position]]))
        corrupted = number[:position] + char + number[position + 1 :]
    assert number in validate_id_number(corrupted, today=TODAY).repairs


@settings(deadline=None)
@given(st.from_regex(r"[0-9]{15}", fullmatch=True))
def test_15_digit_upgrade_keeps_the_parts(number15: str) -> None:
    try:
        number = convert_15_to_18(number15)
    except InvalidIdentifier:
        return  # not a real date
    assert number[:6] == number15[:6] and number[8:17] == number15[6:]
    assert number[6:8] == "19"
    assert check_character(number[:17]) == number[17]


# Random inputs for the vectorised paths: valid numbers, corrupted ones, 15-digit ones and
# noise made of the characters feeds contain.
_NOISE_ALPHABET = "0123456789xX -\t０１２３４５６７８９ｘＸ－\u3000AOé张"
noise = st.text(alphabet=_NOISE_ALPHABET, max_size=20)
typed_numbers = st.one_of(
    valid_numbers,
    valid_numbers.map(str.lower),
    valid_numbers.map(lambda n: n[:6] + n[8:17]),  # 15-digit form
    st.builds(
        lambda n, i, c: n[:i] + c + n[i + 1 :],
        valid_numbers,
        st.integers(0, 17),
        st.sampled_from("0123456789X"),
    ),
    st.from_regex(r"[0-9]{15}|[0-9]{17}[0-9Xx]", fullmatch=True),
    noise,
    st.none(),
)


def _scalar_rows(values: list[str | None]) -> list[dict[str, Any]]:
    rows = []
    for value in values:
        result = validate_id_number(value, today=TODAY, repairs=False)
        rows.append(
            {
                "valid": result.valid,
                "normalised": result.normalised,
                "birth_date": result.birth_date,
                "sex": result.sex,
                "region": result.region,
                "error": None if result.error is None else result.error.code,
                "converted_from_15": result.converted_from_15,
            }
        )
    return rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(typed_numbers, max_size=40))
def test_vectorised_equals_scalar(values: list[str | None]) -> None:
    table = validate_id_numbers(values, today=TODAY)
    assert table.num_rows == len(values)
    assert table.to_pylist() == _scalar_rows(values)


@settings(max_examples=10, deadline=None)
@given(st.lists(typed_numbers, min_size=30, max_size=60))
def test_vectorised_in_several_chunks_equals_scalar(values: list[str | None]) -> None:
    # Chunks are slices with an offset into the input's buffers; a small chunk size makes
    # every chunk boundary case appear.
    import dixian.ids.vectorised as vectorised

    original = vectorised._CHUNK_ROWS
    vectorised._CHUNK_ROWS = 7
    try:
        table = validate_id_numbers(pa.array(values, pa.string()).slice(3), today=TODAY)
    finally:
        vectorised._CHUNK_ROWS = original
    assert table.to_pylist() == _scalar_rows(values[3:])


def test_vectorised_accepts_arrow_and_chunked_input() -> None:
    chunked = pa.chunked_array([[SAMPLE, None], ["110105491231002"]])
    table = validate_id_numbers(chunked, today=TODAY)
    assert table.column("valid").to_pylist() == [True, False, True]
    assert validate_id_numbers([], today=TODAY).num_rows == 0


# --- Ibis (DuckDB here; Spark in the parity test below) -----------------------------------

_IBIS_CASES: list[str | None] = [
    SAMPLE,
    "11010519491231002x",
    "１１０１０５１９４９１２３１００２Ｘ",
    " 110105-19491231-002X ",
    "110105491231002",
    "110105000229001",
    "11010549123100Z",
    "11010519491213002X",
    "110105194912310021",
    "440524188001010014",
    "000105194912310024",
    "110105194902310026",
    "1101051949123100",
    "11010519491231002é",
    "",
    None,
    make_id_number("522799", date(2001, 2, 28), 17),
    make_id_number("522799", date(2000, 2, 29), 18),
]


def _ibis_rows(backend: Any, values: list[str | None]) -> list[dict[str, Any]]:
    table = backend.create_table(
        "ids_input",
        pa.table({"row": list(range(len(values))), "id_number": pa.array(values, pa.string())}),
        overwrite=True,
    )
    checked = ibis_check_id_numbers(table, "id_number", today=TODAY, prefix="")
    frame = backend.to_pyarrow(checked.order_by("row").drop("row", "id_number")).to_pylist()
    return [dict(row, valid=bool(row["valid"])) for row in frame]


def test_ibis_checks_on_duckdb_equal_scalar() -> None:
    backend = ibis.duckdb.connect()
    assert _ibis_rows(backend, _IBIS_CASES) == _scalar_rows(_IBIS_CASES)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(typed_numbers, min_size=20, max_size=120))
def test_ibis_checks_on_duckdb_equal_scalar_on_random_input(values: list[str | None]) -> None:
    backend = ibis.duckdb.connect()
    assert _ibis_rows(backend, values) == _scalar_rows(values)


def test_ibis_check_keeps_columns_and_uses_prefix() -> None:
    backend = ibis.duckdb.connect()
    table = backend.create_table("t", pa.table({"id_number": [SAMPLE], "name": ["张三"]}))
    checked = ibis_check_id_numbers(table, "id_number")
    assert checked.columns[:2] == ("id_number", "name")
    assert "id_number_valid" in checked.columns and "id_number_normalised" in checked.columns
    normalised = backend.execute(table.select(n=ibis_normalise_id_number(table.id_number)))
    assert normalised.n.tolist() == [SAMPLE]


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_ibis_checks_on_spark_equal_scalar(spark_backend: Any) -> None:
    # Built through Spark itself: Ibis' create_table goes through pandas, which turns a
    # null string into 'NaN'.
    session = spark_backend._session
    frame = session.createDataFrame(
        list(enumerate(_IBIS_CASES)), schema="row long, id_number string"
    )
    frame.createOrReplaceTempView("ids_input_spark")
    table = spark_backend.table("ids_input_spark")
    checked = ibis_check_id_numbers(table, "id_number", today=TODAY, prefix="")
    rows = spark_backend.to_pyarrow(checked.order_by("row").drop("row", "id_number")).to_pylist()
    assert [dict(row, valid=bool(row["valid"])) for row in rows] == _scalar_rows(_IBIS_CASES)


# --- region codes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "level"),
    [
        ("52", "520000000000", "province"),
        ("5227", "522700000000", "city"),
        ("522799", "522799000000", "county"),
        ("522799101", "522799101000", "township"),
        ("522799101201", "522799101201", "village"),
        (" ５２２７９９ ", "522799000000", "county"),
        ("441900003000", "441900003000", "township"),  # 东莞: townships under the city
    ],
)
def test_region_normalise_and_level(text: str, code: str, level: str) -> None:
    assert normalise_region_code(text) == code
    assert region_level(text) == level
    assert RegionCode.parse(text).level == level


@pytest.mark.parametrize(
    "text", ["", "5", "522", "5227991", "52279910120", "5227991012011", "52a799", "990000", "00"]
)
def test_region_invalid_codes(text: str) -> None:
    assert not is_valid_region_code(text)
    with pytest.raises(InvalidIdentifier):
        normalise_region_code(text)


def test_region_parent_and_ancestors() -> None:
    assert region_parent("522799101201") == "522799101000"
    assert region_parent("522799101000") == "522799000000"
    assert region_parent("522799") == "522700000000"
    assert region_parent("52") is None
    assert region_parent("441900003000") == "441900000000"
    assert region_ancestors("522799101201") == [
        "520000000000",
        "522700000000",
        "522799000000",
        "522799101000",
    ]
    assert region_ancestors("441900003000") == ["440000000000", "441900000000"]
    assert region_ancestors("52") == []
    region = RegionCode.parse("522799101201")
    assert region.parent == RegionCode("522799101000")
    assert [ancestor.level for ancestor in region.ancestors] == [
        "province",
        "city",
        "county",
        "township",
    ]
    assert (region.province, region.county, region.prefix) == ("52", "522799", "522799101201")


@pytest.mark.parametrize(
    ("code", "prefix", "inside"),
    [
        ("522799101201", "52", True),
        ("522799101201", "5227", True),
        ("522799101201", "522799", True),
        ("522799101201", "522799000000", True),
        ("522799101201", "522799101", True),
        ("522799101201", "522799101201", True),
        ("522799101201", "520000", True),
        ("522799101201", "522798", False),
        ("522799101201", "522799102", False),
        ("522799102001", "522799101201", False),
        ("522799", "522799101", False),
        ("110105000000", "52", False),
    ],
)
def test_in_jurisdiction(code: str, prefix: str, inside: bool) -> None:
    assert in_jurisdiction(code, prefix) is inside
    assert RegionCode.parse(prefix).contains(code) is inside


def test_in_jurisdiction_refuses_malformed_prefix() -> None:
    with pytest.raises(InvalidIdentifier):
        in_jurisdiction("522799101201", "52279")


def test_ibis_in_jurisdiction() -> None:
    backend = ibis.duckdb.connect()
    table = backend.create_table(
        "regions", pa.table({"region_code": ["522799101201", "522799102001", "110105001001"]})
    )
    inside = backend.execute(
        table.select(inside=ibis_in_jurisdiction(table.region_code, "522799101"))
    )
    assert inside.inside.tolist() == [True, False, False]


@settings(deadline=None)
@given(provinces, st.from_regex(r"[0-9]{10}", fullmatch=True))
def test_every_ancestor_contains_the_code(province: str, rest: str) -> None:
    code = province + rest
    for ancestor in region_ancestors(code):
        assert in_jurisdiction(code, ancestor)
        assert region_level(ancestor) != region_level(code)


# --- CLI ----------------------------------------------------------------------------------


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_cli_check_prints_one_json_object_per_number() -> None:
    result = run_cli("ids", "check", "11010519491231002x", "110105491231002")
    assert result.exit_code == 0, result.stderr
    rows = _json_lines(result.stdout)
    assert [row["normalised"] for row in rows] == [SAMPLE, SAMPLE]
    assert rows[0]["sex"] == "F" and rows[0]["birth_date"] == "1949-12-31"
    assert rows[0]["region"] == "110105" and rows[0]["error"] is None
    assert set(rows[0]) >= {
        "valid",
        "normalised",
        "birth_date",
        "sex",
        "region",
        "error",
        "repairs",
    }


def test_cli_check_exits_1_when_any_number_is_invalid() -> None:
    result = run_cli("ids", "check", SAMPLE, "11010519491213002X")
    assert result.exit_code == 1
    rows = _json_lines(result.stdout)
    assert [row["valid"] for row in rows] == [True, False]
    assert rows[1]["error"]["code"] == "check_character"
    assert SAMPLE in rows[1]["repairs"]


def test_cli_check_reads_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{SAMPLE}\n\n110105491231002\n"))
    result = run_cli("ids", "check", "-")
    assert result.exit_code == 0
    assert len(_json_lines(result.stdout)) == 2


def test_cli_check_with_empty_stdin_is_a_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    result = run_cli("ids", "check", "-")
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr


def test_cli_region() -> None:
    result = run_cli("ids", "region", "522799101", "99")
    assert result.exit_code == 1
    good, bad = _json_lines(result.stdout)
    assert good["code"] == "522799101000" and good["level"] == "township"
    assert good["parent"] == "522799000000"
    assert bad["valid"] is False and bad["error"]
