"""Chinese names: surnames by frequency (with a south-western regional tilt), given names by
birth cohort and sex, and the variant spellings that real department records contain
(homophones such as 张/章, similar-looking characters, traditional characters).

Surname weights approximate the Ministry of Public Security's 2020 surname report (national
shares in per cent); the regional tilt raises surnames common in Guizhou and Yunnan
(杨, 罗, 龙, 石, 吴, 韦, 潘). Given-name pools follow the well-known cohort fashions.
"""

from __future__ import annotations

from functools import cache

import numpy as np

_SURNAMES = (
    "王7.1 李7.0 张6.6 刘5.4 陈4.5 杨3.1 黄2.4 赵2.2 吴2.0 周1.9 徐1.5 孙1.5 马1.4 朱1.3 "
    "胡1.3 郭1.2 何1.2 林1.1 高1.1 罗1.0 郑0.9 梁0.9 谢0.8 宋0.7 唐0.7 许0.7 韩0.7 邓0.7 "
    "冯0.7 曹0.6 彭0.6 曾0.6 肖0.6 田0.5 董0.5 潘0.5 袁0.5 蔡0.5 蒋0.5 余0.5 于0.5 杜0.5 "
    "叶0.5 程0.5 魏0.4 苏0.4 吕0.4 丁0.4 任0.4 卢0.4 姚0.4 沈0.4 钟0.4 姜0.4 崔0.4 谭0.4 "
    "陆0.3 范0.3 汪0.3 廖0.3 石0.3 金0.3 韦0.3 贾0.3 夏0.3 付0.3 方0.3 邹0.3 熊0.3 白0.3 "
    "孟0.3 秦0.3 邱0.3 侯0.3 江0.3 尹0.3 薛0.2 段0.2 雷0.2 龙0.2 黎0.2 史0.2 陶0.2 贺0.2 "
    "毛0.2 顾0.2 龚0.2 邵0.2 万0.2 覃0.2 武0.2 钱0.2 严0.2 莫0.2 孔0.2 向0.2 常0.2 汤0.2 "
    "蒙0.1 敖0.1 岑0.1 欧阳0.05"
)
_REGIONAL_TILT = {"杨": 2.0, "罗": 2.0, "龙": 4.0, "石": 3.0, "吴": 1.5, "韦": 3.0, "潘": 2.0}

# (first birth year of the cohort, male pool, female pool)
_GIVEN = (
    (
        0,
        "建国 国华 德明 志强 福生 文华 永福 光明 德富 国庆 长生 玉山 金山 明 华 福 忠 德 贵 荣",
        "秀英 桂英 玉兰 秀兰 桂兰 凤英 玉珍 秀珍 翠花 淑珍 金花 玉梅 秀芳 兰英 英 兰 珍 梅",
    ),
    (
        1960,
        "建华 建军 志刚 卫东 红军 海波 国强 勇 军 伟 强 平 斌 刚 明 林 永红 文斌 建平 小平",
        "红 丽 芳 燕 霞 梅 英 红梅 丽华 春梅 海燕 丽萍 秀梅 桂芳 美玲 小红 玉华 晓红",
    ),
    (
        1980,
        "伟 磊 勇 超 杰 涛 鹏 俊 浩 强 军 斌 海涛 志伟 俊杰 亮 小龙 文龙 建波 明华",
        "静 丽 敏 艳 娟 婷 燕 玲 霞 丹 倩 慧 莉 晓燕 丽娟 小燕 春燕 丽琴 海霞",
    ),
    (
        1995,
        "浩 杰 宇 鑫 俊杰 子豪 浩然 宇航 晨 博 帅 一鸣 家豪 文杰 俊熙 天宇 思远 鹏飞",
        "婷 欣 悦 佳怡 雨欣 欣怡 婷婷 雪 琪 梦瑶 诗琪 思雨 雨婷 静怡 佳琪 心怡 紫薇",
    ),
    (
        2010,
        "梓轩 浩宇 宇轩 子轩 浩然 俊熙 梓豪 沐阳 皓轩 铭泽 宇泽 煜 子墨 奕辰 睿 锦程",
        "子涵 欣怡 梓涵 诗涵 雨桐 可馨 语桐 一诺 梓萱 若汐 思涵 芊芊 依诺 紫涵 沐晴",
    ),
)


def _pairs(text: str) -> dict[str, str]:
    return dict(tuple(pair.split(":")) for pair in text.split())  # type: ignore[misc]


HOMOPHONES: dict[str, str] = _pairs(
    "张:章 王:汪 李:黎 刘:柳 陈:辰 杨:阳 黄:皇 周:舟 吴:武 徐:许 林:琳 罗:萝 何:和 "
    "马:玛 胡:湖 伟:玮 华:花 明:铭 丽:莉 芳:方 英:瑛 军:君 红:宏 静:晶 燕:艳 霞:侠 "
    "勇:永 杰:洁 婷:亭 欣:馨 涛:滔 梅:枚 兰:岚 平:萍 强:蔷 斌:彬 浩:昊 宇:雨 俊:骏 "
    "国:果 建:健 志:智 文:雯 秀:绣 玉:钰 桂:贵 凤:奉 海:亥 佳:家 琪:棋 涵:含"
)
SIMILAR_SHAPES: dict[str, str] = _pairs(
    "王:玉 李:季 白:自 田:由 未:末 士:土 甲:申 人:入 大:太 天:夫 明:朋 杨:扬 "
    "陈:陆 刘:浏 张:弦 玲:伶 娟:涓 晨:辰 浩:洁 斌:赋 俊:浚 梅:海 兰:三 燕:熊"
)


def _parse_surnames() -> tuple[np.ndarray, np.ndarray]:
    names, weights = [], []
    for item in _SURNAMES.split():
        split_at = next(i for i, ch in enumerate(item) if ch.isdigit())
        name = item[:split_at]
        names.append(name)
        weights.append(float(item[split_at:]) * _REGIONAL_TILT.get(name, 1.0))
    w = np.array(weights)
    return np.array(names), w / w.sum()


def draw_names(
    birth_years: np.ndarray, male: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw surnames and given names for persons; returns (surname, given_name) arrays."""
    surnames, weights = _parse_surnames()
    surname = surnames[rng.choice(surnames.size, size=birth_years.size, p=weights)]
    given = np.empty(birth_years.size, dtype=object)
    cohort_starts = np.array([start for start, _, _ in _GIVEN])
    cohort = np.searchsorted(cohort_starts, birth_years, side="right") - 1
    for index, (_, male_pool, female_pool) in enumerate(_GIVEN):
        for is_male, pool_text in ((True, male_pool), (False, female_pool)):
            pool = np.array(pool_text.split(), dtype=object)
            chosen = (cohort == index) & (male == is_male)
            given[chosen] = pool[rng.integers(0, pool.size, size=int(chosen.sum()))]
    return surname.astype(object), given


@cache
def _to_traditional_table() -> dict[int, str]:
    from opencc import OpenCC

    converter = OpenCC("s2t")
    chars = set(_SURNAMES) | set("".join(p for _, m, f in _GIVEN for p in (m, f)))
    chars |= set("".join(HOMOPHONES.values())) | set("".join(SIMILAR_SHAPES.values()))
    chars |= set("省市县镇乡村组号路街道区寨坪沟坝湾岭田河山")
    table: dict[int, str] = {}
    for ch in sorted(chars):
        if ch.isspace() or ch.isdigit() or ch == ".":
            continue
        converted = converter.convert(ch)
        if converted != ch and len(converted) == 1:
            table[ord(ch)] = converted
    return table


def to_traditional(text: str) -> str:
    """The text with every known simplified character replaced by its traditional form."""
    return text.translate(_to_traditional_table())


def homophone_variant(name: str, position: int) -> str:
    """Replace the character at `position` (or the first replaceable one) by a homophone."""
    return _replace_one(name, position, HOMOPHONES)


def similar_shape_variant(name: str, position: int) -> str:
    """Replace one character by a similar-looking one, else drop a duplicated-looking char."""
    changed = _replace_one(name, position, SIMILAR_SHAPES)
    if changed != name:
        return changed
    return name + name[-1] if len(name) == 2 else name[:-1]


def _replace_one(name: str, position: int, table: dict[str, str]) -> str:
    n = len(name)
    for step in range(n):
        index = (position + step) % n
        if name[index] in table:
            return name[:index] + table[name[index]] + name[index + 1 :]
    return name
