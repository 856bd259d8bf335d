"""Resident ID numbers (GB 11643) and region codes (统计用区划代码).

Scalar functions for single values, `validate_id_numbers` for Arrow/NumPy columns and
`ibis_*` expression builders for tables on DuckDB or Spark. See `docs/ids.md`.
"""

from __future__ import annotations

from dixian.ids.expressions import (
    ibis_check_id_numbers,
    ibis_in_jurisdiction,
    ibis_normalise_id_number,
)
from dixian.ids.gb11643 import (
    EARLIEST_BIRTH_YEAR,
    WEIGHTS,
    IdCheck,
    IdError,
    ResidentId,
    Sex,
    check_character,
    convert_15_to_18,
    id_error,
    is_valid_id_number,
    make_id_number,
    mask_id_number,
    normalise_id_number,
    parse_id_number,
    repair_candidates,
    validate_id_number,
)
from dixian.ids.region import (
    ID_PROVINCE_CODES,
    PROVINCE_CODES,
    RegionCode,
    RegionLevel,
    in_jurisdiction,
    is_valid_region_code,
    normalise_region_code,
    region_ancestors,
    region_level,
    region_parent,
    significant_prefix,
)
from dixian.ids.vectorised import normalise_id_numbers, validate_id_numbers

__all__ = [
    "EARLIEST_BIRTH_YEAR",
    "ID_PROVINCE_CODES",
    "PROVINCE_CODES",
    "WEIGHTS",
    "IdCheck",
    "IdError",
    "RegionCode",
    "RegionLevel",
    "ResidentId",
    "Sex",
    "check_character",
    "convert_15_to_18",
    "ibis_check_id_numbers",
    "ibis_in_jurisdiction",
    "ibis_normalise_id_number",
    "id_error",
    "in_jurisdiction",
    "is_valid_id_number",
    "is_valid_region_code",
    "make_id_number",
    "mask_id_number",
    "normalise_id_number",
    "normalise_id_numbers",
    "normalise_region_code",
    "parse_id_number",
    "region_ancestors",
    "region_level",
    "region_parent",
    "repair_candidates",
    "significant_prefix",
    "validate_id_number",
    "validate_id_numbers",
]
