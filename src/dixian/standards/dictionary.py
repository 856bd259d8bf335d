"""The data dictionary (数据字典): the catalog rendered as Markdown, HTML or JSON."""

from __future__ import annotations

import html
import json
from typing import Literal

from dixian.standards.catalog import Catalog, FieldSpec

DictionaryFormat = Literal["md", "html", "json"]

_GRAIN_ZH = {"person": "人", "household": "户", "event": "事件", "village": "村"}
_FREQUENCY_ZH = {"monthly": "每月", "yearly": "每年", "event": "事件触发"}


def _constraint(spec: FieldSpec) -> str:
    parts = []
    if spec.codes:
        parts.append(f"codes: {spec.codes}")
    if spec.min is not None or spec.max is not None:
        low = "" if spec.min is None else f"{spec.min:g}"
        high = "" if spec.max is None else f"{spec.max:g}"
        parts.append(f"range [{low}, {high}]")
    return "; ".join(parts)


def _markdown(catalog: Catalog) -> str:
    lines = ["# 数据字典 Data dictionary", ""]
    for dataset in catalog.datasets:
        department = catalog.code_list("department")
        dept_zh = next(c.zh for c in department.codes if c.code == dataset.department)
        lines += [
            f"## {dataset.label_zh} — {dataset.label_en} (`{dataset.name}`)",
            "",
            f"部门 Department: {dept_zh} ({dataset.department}); "
            f"粒度 Grain: {_GRAIN_ZH[dataset.grain]} ({dataset.grain}); "
            f"频率 Frequency: {_FREQUENCY_ZH[dataset.frequency]} ({dataset.frequency}); "
            f"键 Keys: {', '.join(dataset.key_fields)}",
            "",
            dataset.description,
            "",
            "| 字段 field | 中文名 | English | 类型 type | 单位 unit | 必填 required "
            "| 约束 constraint | 别名 aliases |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for spec in dataset.fields:
            lines.append(
                f"| `{spec.name}` | {spec.label_zh} | {spec.label_en} | {spec.type} | "
                f"{spec.unit or ''} | {'是 yes' if spec.required else ''} | {_constraint(spec)} | "
                f"{'、'.join(spec.aliases)} |"
            )
        lines.append("")
    lines += ["# 代码表 Code lists", ""]
    for code_list in catalog.code_lists:
        lines += [
            f"## {code_list.label_zh} — {code_list.label_en} (`{code_list.name}`)",
            "",
            "| code | 中文 | English | 同义词 synonyms |",
            "|---|---|---|---|",
        ]
        for code in code_list.codes:
            lines.append(f"| `{code.code}` | {code.zh} | {code.en} | {'、'.join(code.synonyms)} |")
        lines.append("")
    return "\n".join(lines)


def _html(catalog: Catalog) -> str:
    esc = html.escape
    parts = [
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>",
        "<title>数据字典 Data dictionary</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}</style></head><body>",
        "<h1>数据字典 Data dictionary</h1>",
    ]
    for dataset in catalog.datasets:
        parts.append(
            f"<h2 id='{esc(dataset.name)}'>{esc(dataset.label_zh)} — {esc(dataset.label_en)}"
            f" <code>{esc(dataset.name)}</code></h2><p>{esc(dataset.description)}</p>"
            f"<p>{esc(dataset.department)} · {esc(dataset.grain)} · {esc(dataset.frequency)}</p>"
            "<table><tr><th>field</th><th>中文名</th><th>English</th><th>type</th><th>unit</th>"
            "<th>required</th><th>constraint</th><th>aliases</th></tr>"
        )
        for spec in dataset.fields:
            parts.append(
                f"<tr><td><code>{esc(spec.name)}</code></td><td>{esc(spec.label_zh)}</td>"
                f"<td>{esc(spec.label_en)}</td><td>{esc(spec.type)}</td><td>{esc(spec.unit or '')}"
                f"</td><td>{'是' if spec.required else ''}</td><td>{esc(_constraint(spec))}</td>"
                f"<td>{esc('、'.join(spec.aliases))}</td></tr>"
            )
        parts.append("</table>")
    parts.append("<h1>代码表 Code lists</h1>")
    for code_list in catalog.code_lists:
        parts.append(
            f"<h2 id='codes-{esc(code_list.name)}'>{esc(code_list.label_zh)} — "
            f"{esc(code_list.label_en)}</h2><table><tr><th>code</th><th>中文</th><th>English</th>"
            "<th>synonyms</th></tr>"
        )
        for code in code_list.codes:
            parts.append(
                f"<tr><td><code>{esc(code.code)}</code></td><td>{esc(code.zh)}</td>"
                f"<td>{esc(code.en)}</td><td>{esc('、'.join(code.synonyms))}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def render_dictionary(catalog: Catalog, *, fmt: DictionaryFormat = "md") -> str:
    """Render the data dictionary.

    Args:
        catalog: the data standard.
        fmt: "md" (Markdown), "html" or "json" (the catalog as data).

    Returns:
        The rendered text, in Chinese and English.
    """
    if fmt == "md":
        return _markdown(catalog)
    if fmt == "html":
        return _html(catalog)
    return json.dumps(catalog.model_dump(mode="json"), ensure_ascii=False, indent=2)
