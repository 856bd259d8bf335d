"""Turning clean values into the text a department writes, column by column, in Arrow.

Dates and amounts are formatted by Arrow compute kernels (vectorised); only the few rows a
noise step touches go through Python.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dixian.simulate.geography import Geography
from dixian.simulate.noise import BIT, NoiseProfile, full_width, noisy_ids, noisy_names
from dixian.simulate.render import BatchStyle, code_labels
from dixian.standards import Catalog, FieldSpec

_DATE_FORMATS = {
    "iso": "%Y-%m-%d",
    "slash": "%Y/%m/%d",
    "compact": "%Y%m%d",
    "chinese": "%Y年%m月%d日",
}


def format_dates(values: np.ndarray, style: str) -> pa.Array:
    """Dates as text in a department's style (2020-01-02, 2020/1/2, 20200102, 2020年1月2日)."""
    days = pa.array(np.asarray(values).astype("datetime64[D]"))
    text = pc.strftime(pc.cast(days, pa.timestamp("s")), format=_DATE_FORMATS[style])
    if style in ("slash", "chinese"):
        text = pc.replace_substring_regex(text, pattern=r"([/年月])0(\d)", replacement=r"\1\2")
    return pc.fill_null(text, "")


def format_amounts(values: np.ndarray, *, wan: bool) -> pa.Array:
    """Yuan amounts as text, or in 万元 with the unit written out."""
    amounts = pa.array(np.nan_to_num(np.asarray(values, dtype=float)))
    if not wan:
        return pc.cast(pc.round(amounts, 2), pa.string())
    text = pc.cast(pc.round(pc.divide(amounts, 10_000.0), 4), pa.string())
    return pc.binary_join_element_wise(text, pa.scalar("万元"), "")


def _set_rows(array: pa.Array, rows: np.ndarray, replacement: np.ndarray) -> pa.Array:
    if rows.size == 0:
        return array
    values = array.to_numpy(zero_copy_only=False).astype(object)
    values[rows] = replacement
    return pa.array(values, type=pa.string())


def render_column(
    spec: FieldSpec,
    values: np.ndarray,
    *,
    style: BatchStyle,
    catalog: Catalog,
    geography: Geography,
    profile: NoiseProfile,
    rng: np.random.Generator,
    tags: np.ndarray,
    noisy: bool,
    corrupt: np.ndarray,
    previous_region: np.ndarray | None = None,
) -> pa.Array:
    """One column as department text, with this batch's style and the row-level noise.

    Args:
        spec: the field.
        values: clean values (codes, datetime64, floats, ints, booleans or text).
        style: the batch's style.
        catalog: for code-list labels.
        geography: for village names and stale addresses.
        profile: noise rates.
        rng: the batch's generator.
        tags: per-row noise bit masks, updated in place.
        noisy: False for correction rows (a correction is clean).
        corrupt: rows whose required amounts are mis-keyed (corrected in a later file).
        previous_region: the village a person lived in before moving ("" when none); a stale
            address is that village when there is one, else another village of the county.
    """
    n = values.size
    # Row noise goes to the row's identity fields (roles name and id_number), so that the
    # truth's per-row noise list describes the person the row is about.
    if spec.type == "name":
        own = noisy and spec.role == "name"
        text = noisy_names(values, profile, rng, tags) if own else values.astype(object)
        return pa.array(text, type=pa.string())
    if spec.type == "id_number":
        own = noisy and spec.role == "id_number"
        text = noisy_ids(values, profile, rng, tags) if own else values.astype(object)
        return pa.array(text, type=pa.string())
    if spec.type == "date":
        out = format_dates(values, style.date_style)
        if style.date_style != "iso":
            tags[~np.isnat(values.astype("datetime64[D]"))] |= BIT["date_variant"]
        if profile.date_variant_rows and noisy:
            rows = np.flatnonzero(rng.uniform(0, 1, n) < profile.date_variant_rows)
            other_style = "chinese" if style.date_style != "chinese" else "slash"
            alt = format_dates(values[rows], other_style).to_numpy(zero_copy_only=False)
            out = _set_rows(out, rows, alt)
            tags[rows] |= BIT["date_variant"]
        return out
    if spec.type == "decimal":
        wan = style.amount_wan and spec.unit == "yuan"
        if wan:
            tags |= BIT["amount_wan"]
        amounts = np.nan_to_num(values.astype(float))
        out = format_amounts(amounts, wan=wan)
        if spec.required and corrupt.size:
            wrong = format_amounts(amounts[corrupt] * 10, wan=wan).to_numpy(zero_copy_only=False)
            out = _set_rows(out, corrupt, wrong)
        if noisy:
            fw = np.flatnonzero(rng.uniform(0, 1, n) < profile.full_width_digits)
            if fw.size:
                text = out.to_numpy(zero_copy_only=False)[fw]
                out = _set_rows(out, fw, full_width(text))
                tags[fw] |= BIT["full_width_digits"]
        return out
    if spec.type == "region_code":
        codes = values.astype("U12").copy()
        if noisy and n:
            stale = np.flatnonzero(rng.uniform(0, 1, n) < profile.stale_address)
            if stale.size:
                other = geography.village_code[rng.integers(0, geography.n_villages, stale.size)]
                if previous_region is not None:
                    before = previous_region[stale]
                    other = np.where(before != "", before, other)
                changed = other != codes[stale]
                codes[stale[changed]] = other[changed]
                tags[stale[changed]] |= BIT["stale_address"]
        if style.village_names and n:
            order = np.argsort(geography.village_code)
            sorted_codes = geography.village_code[order]
            at = np.clip(np.searchsorted(sorted_codes, codes), 0, sorted_codes.size - 1)
            known = sorted_codes[at] == codes
            names = geography.village_name[order][at]
            codes = np.where(known, names, codes)
            tags |= BIT["village_name"]
        return pa.array(codes, type=pa.string())
    if spec.type == "code" and spec.codes is not None:
        # Relation synonyms are sex-specific (妻/夫, 父亲/母亲): keep the neutral label.
        labels = code_labels(
            catalog, spec.codes, style.code_style if spec.codes != "relation_to_head" else 0
        )
        codes = values.astype(str)
        if n == 0:
            return pa.array([], type=pa.string())
        uniques, inverse = np.unique(codes, return_inverse=True)
        label_array = pa.array([labels.get(c, c) for c in uniques.tolist()], type=pa.string())
        return label_array.take(pa.array(inverse.astype(np.int64)))
    if spec.type == "boolean":
        yes, no = ("1", "0") if style.bool_style else ("是", "否")
        return pa.array(np.where(values.astype(bool), yes, no), type=pa.string())
    if spec.type == "integer":
        ints = values.astype(np.int64)
        text = pc.cast(pa.array(ints), pa.string())
        if spec.name == "exit_year":
            text = pc.if_else(pc.equal(pa.array(ints), 0), "", text)
        return text
    if values.dtype == object:
        return pa.array(values, type=pa.string())
    return pa.array(values.astype(str), type=pa.string())
