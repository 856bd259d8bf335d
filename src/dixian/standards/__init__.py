"""The data standard (数据标准): department datasets, fields, Chinese aliases and code lists."""

from dixian.standards.catalog import (
    Catalog,
    Code,
    CodeList,
    Dataset,
    FieldSpec,
    load_catalog,
    load_catalog_from,
)
from dixian.standards.dictionary import render_dictionary

__all__ = [
    "Catalog",
    "Code",
    "CodeList",
    "Dataset",
    "FieldSpec",
    "load_catalog",
    "load_catalog_from",
    "render_dictionary",
]
