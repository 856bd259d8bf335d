"""Small synthetic populations with known matches, generated inline for linkage tests."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙"
    "史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力梅鑫琳云飞斌波宇浩凯俊峰"
# Homophones and traditional forms the noise uses (both directions must fold/sound alike).
HOMOPHONES = {
    "张": "章",
    "王": "汪",
    "李": "理",
    "杨": "阳",
    "刘": "留",
    "伟": "玮",
    "芳": "方",
    "静": "敬",
    "丽": "利",
    "明": "鸣",
}
TRADITIONAL = {
    "张": "張",
    "刘": "劉",
    "陈": "陳",
    "杨": "楊",
    "黄": "黃",
    "赵": "趙",
    "吴": "吳",
    "伟": "偉",
    "军": "軍",
    "华": "華",
    "红": "紅",
    "涛": "濤",
    "丽": "麗",
}

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 3, 6, 8, 4, 2, 1, 3, 6, 8, 9, 10, 5, 2)


def id_check_char(body: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 characters."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return "10X98765432"[total % 11]


@dataclass
class Person:
    person: str
    name: str
    sex: str
    birth: dt.date
    id_number: str
    village: str


def population(n: int, *, seed: int = 7, county: str = "522799") -> list[Person]:
    rng = random.Random(seed)
    people = []
    for index in range(n):
        surname = rng.choice(SURNAMES)
        given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2, 2))))
        sex = rng.choice(("1", "2"))
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 65))
        seq = rng.randrange(0, 50) * 2 + (1 if sex == "1" else 0)
        body = f"{county}{birth:%Y%m%d}{rng.randrange(0, 10)}{seq:02d}"
        people.append(
            Person(
                person=f"T{index:05d}",
                name=surname + given,
                sex=sex,
                birth=birth,
                id_number=body + id_check_char(body),
                village=f"{county}{rng.randrange(100, 104):03d}{rng.randrange(200, 206):03d}",
            )
        )
    return people


NOISES = ("homophone", "traditional", "typo", "swap_day_month", "year_off", "missing_id", "bad_id")


def noisy_copy(person: Person, noise: str, rng: random.Random) -> dict[str, str | None]:
    """One record of a person with one kind of noise applied."""
    name, birth, id_number = person.name, person.birth, person.id_number
    if noise == "homophone":
        name = "".join(HOMOPHONES.get(c, c) for c in name)
        if name == person.name:
            name = name[0] + "".join(HOMOPHONES.get(c, c) for c in name[1:])
    elif noise == "traditional":
        name = "".join(TRADITIONAL.get(c, c) for c in name)
    elif noise == "typo":
        position = rng.randrange(1, len(name)) if len(name) > 2 else 1
        replacement = rng.choice([c for c in GIVEN if c != name[position]])
        name = name[:position] + replacement + name[position + 1 :]
    elif noise == "swap_day_month" and birth.day <= 12 and birth.day != birth.month:
        birth = dt.date(birth.year, birth.day, birth.month)
    elif noise == "year_off":
        try:
            birth = birth.replace(year=birth.year + rng.choice((-1, 1)))
        except ValueError:
            birth = birth.replace(year=birth.year + 1, day=28)
    if noise in {"missing_id", "homophone", "typo", "year_off"}:
        id_number = None  # type: ignore[assignment]
    elif noise == "bad_id":
        digits = list(id_number)
        digits[14], digits[15] = digits[15], digits[14]
        if digits == list(id_number):
            digits[15] = str((int(digits[15]) + 1) % 10)
        id_number = "".join(digits)
    return {
        "name": name,
        "sex": person.sex,
        "dob": birth.isoformat(),
        "id_no": id_number,
        "village": person.village,
        "person": person.person,
    }


def clean_record(person: Person) -> dict[str, str | None]:
    return {
        "name": person.name,
        "sex": person.sex,
        "dob": person.birth.isoformat(),
        "id_no": person.id_number,
        "village": person.village,
        "person": person.person,
    }
