from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from dixian.link.chinese import (
    char_bigrams,
    name_features,
    name_key,
    pinyin,
    split_name,
    substitution_masks,
)
from dixian.link.prepare import prepare_nodes


def test_duckdb_string_distance_counts_bytes_so_we_do_not_use_it_on_han_text() -> None:
    # The measurement that motivates the precomputed keys.
    distance = duckdb.sql("select levenshtein('张伟', '张玮')").fetchone()
    assert distance == (3,)
    assert len(set(substitution_masks("张伟") or []) & set(substitution_masks("张玮") or [])) == 1


def test_name_key_folds_traditional_full_width_and_spaces() -> None:
    assert name_key("張　偉") == "张伟"
    assert name_key(" 陳 ＡＢ ") == "陈ab"
    assert name_key("   ") is None
    assert name_key(None) is None


def test_homophones_share_pinyin_but_not_characters() -> None:
    zhang, zhang2 = name_features("张伟"), name_features("章伟")
    assert zhang.key != zhang2.key
    assert zhang.pinyin == zhang2.pinyin == "zhangwei"
    assert name_features("詹伟").pinyin != zhang.pinyin


def test_fuzzy_pinyin_merges_dialect_sounds_only() -> None:
    assert name_features("张林").pinyin_fuzzy == name_features("臧林").pinyin_fuzzy
    assert name_features("刘能").pinyin_fuzzy == name_features("刘棱").pinyin_fuzzy
    assert name_features("王伟").pinyin_fuzzy != name_features("黄伟").pinyin_fuzzy


def test_surname_and_given_name_apart_with_compound_surnames() -> None:
    assert split_name("欧阳娜娜") == ("欧阳", "娜娜")
    assert split_name("张伟") == ("张", "伟")
    assert split_name("johnsmith") == (None, None)
    parts = name_features(None, surname="Smith", given="John")
    assert parts.surname == "smith" and parts.given == "john"


def test_masks_detect_exactly_one_character_difference() -> None:
    def one_apart(a: str, b: str) -> bool:
        return bool(set(substitution_masks(a) or []) & set(substitution_masks(b) or []))

    assert one_apart("张小伟", "张晓伟")
    assert not one_apart("张小伟", "章晓伟")
    assert not one_apart("伟", "强")  # single characters carry no mask
    assert pinyin(None) is None
    assert char_bigrams("某村1组") == ["1组", "村1", "某村"]


def test_prepare_nodes_derives_birth_and_id_parts() -> None:
    roles = pa.table(
        {
            "node_id": ["a", "b"],
            "source": ["x", "x"],
            "name": ["張偉", None],
            "birth_date": pa.array([dt.date(1980, 3, 5), None]),
            "id_number": ["52279919800305123x", None],
        }
    )
    nodes = prepare_nodes(roles).to_pylist()
    first = nodes[0]
    assert first["name_key"] == "张伟" and first["name_pinyin"] == "zhangwei"
    assert first["birth_str"] == "1980-03-05" and first["birth_swapped"] == "1980-05-03"
    assert first["birth_md"] == "03-05" and first["birth_year"] == 1980
    assert first["id_number"].endswith("X") and first["id_birth"] == "19800305"
    assert nodes[1]["name_key"] is None and nodes[1]["birth_swapped"] is None


def test_repair_lookup_equals_repair_candidates_on_known_numbers() -> None:
    from dixian.ids import repair_candidates
    from dixian.link.identity import _one_error_variants

    for number in ("11010519491213002X", "110105194912310021", "522799199701095265"):
        valid = set(repair_candidates(number))
        assert valid <= _one_error_variants(number)


def test_the_variant_join_finds_the_known_numbers_one_error_away() -> None:
    from dixian.link.identity import _known_variants, _one_error_variants

    bad = ["52279919970109526X", "522799199701095625"]  # wrong check character; a swap
    known = ["522799199701095265", "110105194912310021"]
    found = _known_variants(bad, known)
    for number in bad:
        expected = sorted(_one_error_variants(number) & set(known))
        assert sorted(found.get(number, [])) == expected
    assert found["522799199701095625"] == ["522799199701095265"]
