"""People for the demo data: names, resident IDs, mobiles, addresses, emails. Deterministic."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import date, timedelta

from bot.ids import id_check_char
from bot.seeding import reference as ref
from bot.seeding.rand import pick, ri, wpick
from bot.text.zh_input import luhn_check_digit

_SURNAMES = [s for s, _ in ref.SURNAMES]
_SURNAME_CUM = list(itertools.accumulate(w for _, w in ref.SURNAMES))
_AREA_CUM = list(itertools.accumulate(a[4] for a in ref.AREAS))
_PINYIN_INITIALS = "abcdefghjklmnpqrstwxyz"


@dataclass(frozen=True)
class Person:
    name: str
    surname: str
    id_number: str
    gender: str  # "M" / "F"
    birth_date: date


class IdNumbers:
    """Unique resident ID numbers without remembering every number issued.

    For each (birth date, sex) the 3-digit sequence code walks a fixed permutation of 0..499, so
    two people born the same day never share a number whatever the area code; memory grows with
    the number of distinct birth dates, not with the number of people.
    """

    def __init__(self, reserved: set[str] | None = None) -> None:
        self._next: dict[tuple[date, str], int] = {}
        self._reserved = set(reserved or ())

    def issue(self, rng: random.Random, area: str, birth: date, gender: str) -> str:
        key = (birth, gender)
        while True:
            k = self._next.get(key, 0)
            if k >= 500:
                birth += timedelta(days=1)  # this day is full: the next day has room
                key = (birth, gender)
                continue
            self._next[key] = k + 1
            offset = (birth.toordinal() * 7) % 500
            seq = ((k * 37 + offset) % 500) * 2 + (1 if gender == "M" else 0)
            first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
            number = first17 + id_check_char(first17)
            if number not in self._reserved:
                return number


class PersonFactory:
    def __init__(self, ids: IdNumbers) -> None:
        self.ids = ids

    @staticmethod
    def surname(rng: random.Random) -> str:
        return wpick(rng, _SURNAMES, _SURNAME_CUM)

    @staticmethod
    def given_name(rng: random.Random, gender: str) -> str:
        chars = ref.GIVEN_MALE if gender == "M" else ref.GIVEN_FEMALE
        if rng.random() < 0.4:
            return pick(rng, chars)
        return pick(rng, chars) + pick(rng, chars)

    @staticmethod
    def area(rng: random.Random) -> tuple[str, str, str, str, int]:
        return wpick(rng, ref.AREAS, _AREA_CUM)

    def person(
        self,
        rng: random.Random,
        *,
        today: date,
        gender: str | None = None,
        age: tuple[int, int] = (22, 65),
        surname: str | None = None,
    ) -> Person:
        gender = gender or pick(rng, "MF")
        years = ri(rng, *age)
        birth = today - timedelta(days=years * 365 + ri(rng, 0, 364))
        area = self.area(rng)[0]
        number = self.ids.issue(rng, area, birth, gender)
        surname = surname or self.surname(rng)
        name = surname + self.given_name(rng, gender)
        return Person(name=name, surname=surname, id_number=number, gender=gender, birth_date=birth)

    @staticmethod
    def mobile(rng: random.Random) -> str:
        return pick(rng, ref.MOBILE_PREFIXES) + f"{int(rng.random() * 10**8):08d}"

    def address(self, rng: random.Random) -> str:
        _code, province, city, district, _w = self.area(rng)
        sub = pick(rng, ref.SUBDISTRICTS) + pick(rng, ref.SUBDISTRICT_SUFFIX)
        street = pick(rng, ref.STREETS)
        number = ri(rng, 1, 399)
        if rng.random() < 0.8:
            home = (
                f"{pick(rng, ref.COMMUNITIES)}小区{ri(rng, 1, 30)}栋"
                f"{ri(rng, 1, 4)}单元{ri(rng, 1, 33)}{ri(rng, 1, 4):02d}室"
            )
        else:
            home = ""
        return f"{province}{city}{district}{sub}{street}{number}号{home}"

    @staticmethod
    def email(rng: random.Random, birth: date) -> str:
        letters = "".join(pick(rng, _PINYIN_INITIALS) for _ in range(ri(rng, 2, 4)))
        return f"{letters}{birth:%y%m}{ri(rng, 10, 999)}@{pick(rng, ref.EMAIL_DOMAINS)}"

    @staticmethod
    def bank(rng: random.Random) -> tuple[str, str]:
        """A bank and a card number of its BIN and length, with a valid Luhn check digit."""
        name, bin_, length = pick(rng, ref.BANKS)
        rest = length - len(bin_) - 1
        body = bin_ + f"{int(rng.random() * 10**rest):0{rest}d}"
        return name, body + luhn_check_digit(body)

    @staticmethod
    def plate(rng: random.Random) -> str:
        prefix = pick(rng, ref.PLATE_PREFIXES)
        if rng.random() < 0.2:  # new-energy plate: D/F + 5 characters
            return prefix + pick(rng, "DF") + f"{int(rng.random() * 10**5):05d}"
        pool = "0123456789" * 3 + ref.PLATE_LETTERS
        return prefix + "".join(pick(rng, pool) for _ in range(5))
