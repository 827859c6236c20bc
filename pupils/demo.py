"""A deterministic demo city shaped like Plymouth (LA 879), for development, demos and benchmarks.

``demo_city_generate(pupils=40500, seed=2026)`` builds, in one transaction:
- 8 localities and 98 schools in Plymouth's phase mix (000 seed: 1 all-through, 2 nursery,
  3 infant, 2 junior, 64 primary, 18 secondary, 7 special, 1 alternative provision), with
  plausible names, URNs and DfE numbers 879/xxxx;
- academic years 2024/25 and 2025/26 with Plymouth-like terms, half terms, and the bank holidays
  that fall in term as ``ClosureDay`` rows;
- pupils spread by phase size, year groups consistent with the phase, dates of birth consistent
  with the year group this year, valid UPNs (check letter included), one enrolment each (a few AP
  pupils dual registered with a secondary school; this year's Year 7 at secondary schools, unless
  they moved into the city, also have last year's enrolment at a city primary, so the Y6→Y7
  transition has a "before"), a characteristics snapshot on this year's autumn census day and,
  for pupils already in the city's schools last year, one on last year's (a year group lower),
  at the seed's rates (FSM 27%, SEN support 14%, EHCP ~4%, CIN 3%,
  CP 0.8%, CLA 1%, EAL 6%, ethnicity from the 000 seed's table, sex 50/50);
- users: administrator, managers, 8 LA officers linked to schools by locality, one school lead
  per school, 10 social workers with every CIN/CP/CLA pupil allocated.

Everything comes from one ``numpy`` generator seeded with ``seed``: the same seed gives the same
city (UPNs, names, rates). Rows are written with PostgreSQL COPY, not ORM saves, so the full city
takes a few seconds. Pupils and everything else are plain data: nothing here is real.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from stdnum.gb import upn as upn_checker

from accounts.models import User
from pupils.models import Characteristics, Enrolment, Pupil, SocialWorkerAllocation
from schools.models import AcademicYear, ClosureDay, Locality, Phase, School, Term

LA_CODE = "879"
DEMO_DOMAIN = "demo.test"
DEFAULT_PUPILS = 40500
DEFAULT_SEED = 2026
DEFAULT_PASSWORD = "demo-password-2026"

PHASE_MIX = [  # (phase, count, (smallest, largest) roll before scaling to --pupils)
    # Chosen so that at 40,500 pupils (scale ~0.95) secondaries hold ~1,000-1,300 and
    # primaries ~190-320, as in Plymouth.
    (Phase.ALL_THROUGH, 1, (1300, 1450)),
    (Phase.NURSERY, 2, (60, 85)),
    (Phase.INFANT, 3, (150, 200)),
    (Phase.JUNIOR, 2, (210, 270)),
    (Phase.PRIMARY, 64, (200, 340)),
    (Phase.SECONDARY, 18, (1060, 1360)),
    (Phase.SPECIAL, 7, (100, 190)),
    (Phase.AP, 1, (80, 100)),
]

LOCALITIES = {
    "Plympton": ["Plympton", "Chaddlewood", "Colebrook", "Woodford", "Yealmpstone", "Hemerdon",
                 "Boringdon", "Ridgeway", "Underwood", "Langage"],
    "Plymstock": ["Plymstock", "Elburton", "Hooe", "Oreston", "Goosewell", "Pomphlett",
                  "Staddiscombe", "Turnchapel", "Billacombe", "Dunstone", "Radford"],
    "Devonport": ["Devonport", "Morice Town", "Keyham", "Ford", "Stoke", "Mount Wise",
                  "Pennycomequick", "Granby"],
    "Stonehouse": ["Stonehouse", "Millbay", "Durnford", "Admiralty", "Royal William",
                   "Union Street"],
    "Central": ["Mutley", "Lipson", "Greenbank", "Mannamead", "Compton", "Hartley", "Peverell",
                "Mount Gould", "Prince Rock", "Cattedown", "Laira", "Efford"],
    "North": ["Crownhill", "Estover", "Derriford", "Roborough", "Woolwell", "Glenholt",
              "Leigham", "Mainstone", "Eggbuckland", "Southway", "Widewell", "Tamerton Foliot"],
    "South West": ["Honicknowle", "Ham", "Whitleigh", "West Park", "Pennycross", "Beacon Park",
                   "Manadon", "Weston Mill", "Camels Head", "Milehouse"],
    "Tamar": ["St Budeaux", "Ernesettle", "Barne Barton", "Kings Tamerton", "Bull Point",
              "Tamerton", "Saltash Passage", "Higher St Budeaux"],
}
POSTCODE_DISTRICTS = {
    "Plympton": ["PL7"], "Plymstock": ["PL9"], "Devonport": ["PL1", "PL2"],
    "Stonehouse": ["PL1"], "Central": ["PL4", "PL3"], "North": ["PL6"],
    "South West": ["PL5", "PL2"], "Tamar": ["PL5"],
}
SAINTS = ["St Joseph's Catholic", "St Peter's Church of England", "Holy Cross Catholic",
          "St Andrew's Church of England", "St Edward's Church of England",
          "Our Lady of Mount Carmel Catholic", "St Paul's Catholic", "St Matthew's Church of England",
          "Christ Church Church of England", "St Mary's Catholic"]

# Year groups per phase with relative weights (sixth forms are smaller than Years 7 to 11).
YEAR_GROUPS = {
    Phase.NURSERY: {"N1": 1.0, "N2": 1.2},
    Phase.INFANT: {"R": 1.0, "1": 1.0, "2": 1.0},
    Phase.JUNIOR: {"3": 1.0, "4": 1.0, "5": 1.0, "6": 1.0},
    Phase.PRIMARY: {"R": 1.0, "1": 1.0, "2": 1.0, "3": 1.0, "4": 1.0, "5": 1.0, "6": 1.0},
    Phase.SECONDARY: {"7": 1.0, "8": 1.0, "9": 1.0, "10": 1.0, "11": 1.0, "12": 0.45,
                      "13": 0.4},
    Phase.ALL_THROUGH: {g: 1.0 for g in ["R", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10",
                                         "11"]} | {"12": 0.5, "13": 0.45},
    Phase.SPECIAL: {g: 1.0 for g in ["R", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10",
                                     "11"]} | {"12": 0.7, "13": 0.6, "14": 0.5},
    Phase.AP: {"7": 0.3, "8": 0.6, "9": 1.0, "10": 1.4, "11": 1.6},
}
YEAR_NUMBER = {"N1": -2, "N2": -1, "R": 0} | {str(n): n for n in range(1, 15)}
YEAR_LABEL = {number: label for label, number in YEAR_NUMBER.items()}
FIRST_YEAR = {Phase.NURSERY: -2, Phase.INFANT: 0, Phase.JUNIOR: 3, Phase.PRIMARY: 0,
              Phase.SECONDARY: 7, Phase.ALL_THROUGH: 0, Phase.AP: 7}

# 000 seed, table 1 (Plymouth pupils by major ethnicity), split into DfE minor codes.
ETHNICITY = {
    "WBRI": 85.6,
    "MWBC": 1.1, "MWBA": 0.5, "MWAS": 0.8, "MOTH": 0.9,  # Mixed 3.3
    "AIND": 0.4, "APKN": 0.2, "ABAN": 0.3, "AOTH": 0.5,  # Asian 1.4
    "BAFR": 0.8, "BCRB": 0.1, "BOTH": 0.3,  # Black 1.2
    "CHNE": 0.5,
    "WOTH": 4.4, "WIRI": 0.3, "WROM": 0.2, "OOTH": 1.8,  # other 6.7 (other White incl. Polish)
    "REFU": 0.6, "NOBT": 0.7,  # unclassified: the remaining 1.3
}
RATES = {"fsm": 0.27, "sen_support": 0.14, "ehcp": 0.04, "cin": 0.03, "cp": 0.008, "cla": 0.01,
         "eal": 0.06, "young_carer": 0.015}

GIRLS = ["Olivia", "Amelia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Isabella", "Rosie", "Sophia",
         "Grace", "Freya", "Willow", "Florence", "Emily", "Ella", "Poppy", "Evie", "Elsie",
         "Charlotte", "Evelyn", "Sophie", "Daisy", "Phoebe", "Sienna", "Ruby", "Harper",
         "Jessica", "Matilda", "Isabelle", "Millie", "Alice", "Chloe", "Lucy", "Ellie", "Holly",
         "Maisie", "Erin", "Scarlett", "Layla", "Zara", "Emma", "Hannah", "Megan", "Maya",
         "Amber", "Eva", "Lola", "Molly", "Imogen", "Zuzanna", "Maja", "Fatima", "Aisha"]
BOYS = ["Oliver", "George", "Harry", "Noah", "Jack", "Leo", "Arthur", "Muhammad", "Oscar",
        "Charlie", "Jacob", "Thomas", "Henry", "William", "Freddie", "Alfie", "Theo", "Archie",
        "Joshua", "James", "Ethan", "Isaac", "Alexander", "Joseph", "Edward", "Samuel", "Max",
        "Logan", "Lucas", "Daniel", "Dylan", "Finley", "Harrison", "Mason", "Riley", "Tommy",
        "Jake", "Reuben", "Teddy", "Louie", "Ben", "Mohammed", "Lewis", "Kai", "Harvey", "Ryan",
        "Toby", "Sebastian", "Adam", "Jayden", "Jakub", "Filip", "Omar", "Yusuf"]

TERMS = {  # start_year: [(term, start, end, half term start, half term end)]
    2024: [("autumn", date(2024, 9, 3), date(2024, 12, 20), date(2024, 10, 28),
            date(2024, 11, 1)),
           ("spring", date(2025, 1, 6), date(2025, 4, 4), date(2025, 2, 17), date(2025, 2, 21)),
           ("summer", date(2025, 4, 22), date(2025, 7, 22), date(2025, 5, 26),
            date(2025, 5, 30))],
    2025: [("autumn", date(2025, 9, 3), date(2025, 12, 19), date(2025, 10, 27),
            date(2025, 10, 31)),
           ("spring", date(2026, 1, 5), date(2026, 3, 27), date(2026, 2, 16), date(2026, 2, 20)),
           ("summer", date(2026, 4, 13), date(2026, 7, 22), date(2026, 5, 25),
            date(2026, 5, 29))],
    2026: [("autumn", date(2026, 9, 2), date(2026, 12, 18), date(2026, 10, 26),
            date(2026, 10, 30)),
           ("spring", date(2027, 1, 4), date(2027, 3, 25), date(2027, 2, 15), date(2027, 2, 19)),
           ("summer", date(2027, 4, 12), date(2027, 7, 21), date(2027, 5, 31),
            date(2027, 6, 4))],
}
BANK_HOLIDAYS = {  # England and Wales
    date(2024, 8, 26): "Summer bank holiday", date(2024, 12, 25): "Christmas Day",
    date(2024, 12, 26): "Boxing Day", date(2025, 1, 1): "New Year's Day",
    date(2025, 4, 18): "Good Friday", date(2025, 4, 21): "Easter Monday",
    date(2025, 5, 5): "Early May bank holiday", date(2025, 5, 26): "Spring bank holiday",
    date(2025, 8, 25): "Summer bank holiday", date(2025, 12, 25): "Christmas Day",
    date(2025, 12, 26): "Boxing Day", date(2026, 1, 1): "New Year's Day",
    date(2026, 4, 3): "Good Friday", date(2026, 4, 6): "Easter Monday",
    date(2026, 5, 4): "Early May bank holiday", date(2026, 5, 25): "Spring bank holiday",
    date(2026, 8, 31): "Summer bank holiday", date(2026, 12, 25): "Christmas Day",
    date(2026, 12, 28): "Boxing Day (substitute day)", date(2027, 1, 1): "New Year's Day",
    date(2027, 3, 26): "Good Friday", date(2027, 3, 29): "Easter Monday",
    date(2027, 5, 3): "Early May bank holiday", date(2027, 5, 31): "Spring bank holiday",
    date(2027, 8, 30): "Summer bank holiday",
}
# The demo is "now": the academic year containing today (marks up to today) and the full year
# before it. Capped at the last year whose term dates are written above.
CURRENT_YEAR = min(AcademicYear.start_year_for(date.today()), max(TERMS))
PREVIOUS_YEAR = CURRENT_YEAR - 1
# Effective dates of the characteristics snapshots: this year's autumn census (or today, early in
# the autumn term, so that pupil pages find this year's snapshot), and last year's census.
CENSUS_DAY = min(date(CURRENT_YEAR, 10, 2), max(date.today(), date(CURRENT_YEAR, 9, 1)))
PREVIOUS_CENSUS_DAY = date(PREVIOUS_YEAR, 10, 2)
# Last year's leavers (Year 6 at a primary) left on the last day of the summer term.
PREVIOUS_YEAR_END = (TERMS[PREVIOUS_YEAR][-1][2] if PREVIOUS_YEAR in TERMS
                     else date(CURRENT_YEAR, 7, 22))


@dataclass
class DemoCity:
    schools: int = 0
    pupils: int = 0
    enrolments: int = 0
    dual_registered: int = 0
    transition: int = 0  # this year's Year 7 with last year's enrolment at a city primary
    users: dict[str, int] = field(default_factory=dict)
    allocations: int = 0
    demo_logins: list[tuple[str, str, str]] = field(default_factory=list)  # role, email, note
    password: str = ""


def demo_city_exists() -> tuple[int, int]:
    """(schools, pupils) already in the database; the demo city is only built on an empty one."""
    return School.objects.count(), Pupil.objects.count()


def demo_city_reset() -> None:
    """Wipe every school, pupil (and whatever references them) and every @demo.test user.

    Pupil tables are truncated with CASCADE (marks, summaries, alerts… that reference pupils go
    too). Users are kept except the demo ones; a non-demo school lead loses their school.
    """
    with connection.cursor() as cursor:
        # Django's foreign keys are deferred: settle pending checks so TRUNCATE may run even in
        # the transaction that inserted the rows (tests, a rebuild after a failed one).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "TRUNCATE pupils_characteristics, pupils_enrolment, pupils_socialworkerallocation, "
            "pupils_pupil RESTART IDENTITY CASCADE"
        )
        # Tables (other than users) that reference schools, e.g. marks, TSMs: emptied too.
        cursor.execute(
            "SELECT DISTINCT conrelid::regclass::text FROM pg_constraint "
            "WHERE contype = 'f' AND confrelid = 'schools_school'::regclass "
            "AND conrelid <> 'accounts_user'::regclass AND conrelid <> 'schools_closureday'::regclass"
        )
        tables = [row[0] for row in cursor.fetchall()]
        if tables:
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
    User.objects.filter(email__iendswith="@" + DEMO_DOMAIN).delete()
    User.objects.filter(school__isnull=False).update(school=None, is_school_lead=False)
    with connection.cursor() as cursor:  # everything referencing schools is empty by now
        cursor.execute("DELETE FROM schools_closureday")
        cursor.execute("DELETE FROM schools_school")
        cursor.execute("DELETE FROM schools_locality")


def _weighted(rng, options: dict, size: int) -> np.ndarray:
    keys = list(options)
    weights = np.array([options[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=size, p=weights / weights.sum())]


def _school_plan(rng) -> pd.DataFrame:
    """98 schools: phase, name, locality, URN, DfE number, type, ages, base roll."""
    places = [(place, loc) for loc, names in LOCALITIES.items() for place in names]
    order = rng.permutation(len(places))
    places = [places[i] for i in order]
    used: set[str] = set()
    next_place = iter(range(10_000))

    def take_place(suffixes):
        while True:
            place, loc = places[next(next_place) % len(places)]
            for suffix in suffixes:
                name = f"{place} {suffix}"
                if name not in used:
                    used.add(name)
                    return name, loc

    rows = []
    saints = list(rng.permutation(SAINTS))
    infant_places = []
    for phase, count, (low, high) in PHASE_MIX:
        for i in range(count):
            if phase == Phase.PRIMARY and i % 7 == 3 and saints:
                name = f"{saints.pop()} Primary School"
                loc = list(LOCALITIES)[int(rng.integers(len(LOCALITIES)))]
                kind = "Voluntary aided school"
            elif phase == Phase.PRIMARY:
                suffix = ["Primary School", "Primary Academy", "Community Primary School"][
                    int(rng.integers(3))]
                name, loc = take_place([suffix, "Primary School", "Primary Academy"])
                kind = ["Community school", "Academy converter", "Academy sponsor led",
                        "Foundation school"][int(rng.choice(4, p=[0.35, 0.4, 0.15, 0.1]))]
            elif phase == Phase.INFANT:
                name, loc = take_place(["Infant School"])
                infant_places.append((name.removesuffix(" Infant School"), loc))
                kind = "Community school"
            elif phase == Phase.JUNIOR:
                place, loc = infant_places[i]
                name = f"{place} Junior School"
                used.add(name)
                kind = "Academy converter"
            elif phase == Phase.NURSERY:
                name, loc = take_place(["Nursery School"])
                kind = "Local authority nursery school"
            elif phase == Phase.SECONDARY:
                suffix = ["Academy", "School", "Community College", "High School",
                          "College"][i % 5]
                if i == 4:
                    name, loc = "St Boniface's Catholic College", "Central"
                else:
                    name, loc = take_place([suffix, "Academy", "School"])
                kind = ["Academy converter", "Academy sponsor led", "Free schools",
                        "Voluntary aided school"][0 if i % 4 else int(rng.integers(4))]
            elif phase == Phase.ALL_THROUGH:
                name, loc = take_place(["All-Through Academy"])
                kind = "Academy sponsor led"
            elif phase == Phase.SPECIAL:
                name, loc = take_place(["School", "Academy", "Special School"])
                kind = ["Community special school", "Academy special converter"][i % 2]
            else:
                name, loc = "Tamarside Learning Centre", "Tamar"
                kind = "Academy alternative provision converter"
            rows.append({"phase": str(phase), "name": name, "locality": loc, "school_type": kind,
                         "base": int(rng.integers(low, high + 1))})
    plan = pd.DataFrame(rows)
    plan["urn"] = [f"{u:06d}" for u in np.sort(rng.choice(np.arange(113400, 151000), len(plan),
                                                          replace=False))][::1]
    plan["urn"] = plan["urn"].to_numpy()[rng.permutation(len(plan))]
    estab_ranges = {"nursery": (1001, 1099), "ap": (1100, 1199), "infant": (2000, 3999),
                    "junior": (2000, 3999), "primary": (2000, 3999), "secondary": (4000, 5999),
                    "all_through": (4000, 5999), "special": (7000, 7199)}
    estab = np.zeros(len(plan), dtype=int)
    for group in [("nursery",), ("ap",), ("infant", "junior", "primary"),
                  ("secondary", "all_through"), ("special",)]:
        mask = plan["phase"].isin(group).to_numpy()
        low, high = estab_ranges[group[0]]
        estab[mask] = np.sort(rng.choice(np.arange(low, high + 1), mask.sum(), replace=False))
    plan["establishment_number"] = [f"{e:04d}" for e in estab]
    ages = {"nursery": (2, 5), "infant": (4, 7), "junior": (7, 11), "primary": (4, 11),
            "secondary": (11, 18), "all_through": (4, 18), "special": (2, 19), "ap": (11, 16)}
    plan["statutory_low_age"] = plan["phase"].map(lambda p: ages[p][0])
    plan["statutory_high_age"] = plan["phase"].map(lambda p: ages[p][1])
    plan["postcode"] = [
        f"{POSTCODE_DISTRICTS[loc][0]} {rng.integers(1, 10)}"
        f"{'ABDEFGHJLNPQRSTUWXYZ'[rng.integers(20)]}{'ABDEFGHJLNPQRSTUWXYZ'[rng.integers(20)]}"
        for loc in plan["locality"]
    ]
    return plan


def _rolls(base: np.ndarray, total: int) -> np.ndarray:
    """Scale base rolls to ``total`` pupils (largest remainder; at least 1 each if possible)."""
    share = base / base.sum() * total
    rolls = np.floor(share).astype(int)
    if total >= len(base):
        rolls = np.maximum(rolls, 1)
    diff = total - rolls.sum()
    order = np.argsort(-(share - np.floor(share)), kind="stable")
    i = 0
    while diff != 0:
        j = order[i % len(order)]
        if diff > 0:
            rolls[j] += 1
            diff -= 1
        elif rolls[j] > 1:
            rolls[j] -= 1
            diff += 1
        i += 1
    return rolls


def _pupil_plan(rng, schools: pd.DataFrame, total: int) -> pd.DataFrame:
    rolls = _rolls(schools["base"].to_numpy(dtype=float), total)
    parts = []
    for idx, (school, roll) in enumerate(zip(schools.itertuples(), rolls, strict=True)):
        if roll == 0:
            continue
        groups = _weighted(rng, YEAR_GROUPS[school.phase], roll)
        parts.append(pd.DataFrame({"school_idx": idx, "year_group": groups}))
    pupils = pd.concat(parts, ignore_index=True)
    n = len(pupils)
    year_number = pupils["year_group"].map(YEAR_NUMBER).to_numpy(dtype=int)
    pupils["year_number"] = year_number

    # Date of birth: in the year group's window for 2025/26 (Reception born 1/9/2020-31/8/2021).
    window_start = np.array([np.datetime64(f"{CURRENT_YEAR - 5 - y}-09-01") for y in year_number])
    window_end = np.array([np.datetime64(f"{CURRENT_YEAR - 4 - y}-09-01") for y in year_number])
    span = (window_end - window_start).astype(int)
    pupils["date_of_birth"] = window_start + (rng.random(n) * span).astype(int).astype(
        "timedelta64[D]")
    female = rng.random(n) < 0.5
    pupils["sex"] = np.where(female, "F", "M")
    pupils["forename"] = np.where(female, np.array(GIRLS, dtype=object)[rng.integers(
        len(GIRLS), size=n)], np.array(BOYS, dtype=object)[rng.integers(len(BOYS), size=n)])
    from faker.providers.person.en_GB import Provider

    surnames = list(Provider.last_names)
    weights = np.array(list(Provider.last_names.values()), dtype=float)
    pupils["surname"] = np.array(surnames, dtype=object)[rng.choice(len(surnames), size=n,
                                                                   p=weights / weights.sum())]

    # UPN: allocated on first entry to school, by that school (a primary for older pupils).
    phase = schools["phase"].to_numpy()[pupils["school_idx"].to_numpy()]
    own_estab = schools["establishment_number"].to_numpy()[pupils["school_idx"].to_numpy()]
    feeders = schools.loc[schools["phase"].isin(["primary", "infant", "all_through"]),
                          "establishment_number"].to_numpy()
    from_feeder = np.isin(phase, ["secondary", "special", "ap", "junior"])
    estab = np.where(from_feeder, feeders[rng.integers(len(feeders), size=n)], own_estab)
    la = np.full(n, LA_CODE, dtype=object)
    elsewhere = rng.random(n) < 0.05  # moved in from Cornwall or Devon
    la[elsewhere] = np.where(rng.random(elsewhere.sum()) < 0.6, "908", "878")
    estab = estab.astype(object)
    estab[elsewhere] = [f"{e:04d}" for e in rng.integers(2000, 4000, size=elsewhere.sum())]
    entry_year = np.where(year_number >= 0, CURRENT_YEAR - year_number,
                          CURRENT_YEAR - (year_number + 2))
    pupils["upn_body_prefix"] = la + estab + pd.Series(entry_year % 100).map("{:02d}".format)
    order = rng.permutation(n)
    serial = pd.Series(order).groupby(pupils["upn_body_prefix"].to_numpy()[order]).cumcount()
    serials = np.empty(n, dtype=int)
    serials[order] = serial.to_numpy() + 1
    if serials.max() > 999:
        raise ValueError("too many pupils for one allocating school and year; lower --pupils")
    bodies = pupils["upn_body_prefix"] + pd.Series(serials).map("{:03d}".format)
    pupils["upn"] = [upn_checker.calc_check_digit(b) + b for b in bodies]
    pupils = pupils.drop(columns=["upn_body_prefix"])

    # Characteristics at the seed's rates.
    special = phase == "special"
    ap = phase == "ap"
    pupils["fsm"] = rng.random(n) < np.where(ap, 0.6, np.where(special, 0.45, 0.26))
    roll_sen = rng.random(n)
    ehcp_rate = np.where(special, 0.93, np.where(ap, 0.15, 0.019))
    support_rate = np.where(special, 0.07, np.where(ap, 0.55, 0.142))
    pupils["sen"] = np.where(roll_sen < ehcp_rate, "E",
                             np.where(roll_sen < ehcp_rate + support_rate, "K", "N"))
    pupils["ethnicity"] = _weighted(rng, ETHNICITY, n)
    eal_rate = np.where(pupils["ethnicity"].isin(["WBRI", "REFU", "NOBT"]), 0.005, 0.42)
    pupils["eal"] = rng.random(n) < eal_rate
    social = rng.random(n)
    pupils["cla"] = social < RATES["cla"]
    pupils["cp"] = (social >= RATES["cla"]) & (social < RATES["cla"] + RATES["cp"])
    pupils["cin"] = (social >= RATES["cla"] + RATES["cp"]) & (
        social < RATES["cla"] + RATES["cp"] + RATES["cin"])
    pupils["young_carer"] = rng.random(n) < RATES["young_carer"]
    locality = schools["locality"].to_numpy()[pupils["school_idx"].to_numpy()]
    pupils["postcode_area"] = [
        POSTCODE_DISTRICTS[loc][k % len(POSTCODE_DISTRICTS[loc])]
        for loc, k in zip(locality, rng.integers(0, 6, size=n), strict=True)
    ]

    # Enrolment start: the September the pupil reached the school's first year group; some
    # joined mid-year; AP placements are recent; special schools admit at any age.
    first_year = np.array([FIRST_YEAR.get(p, 0) for p in phase])
    years_in = np.maximum(year_number - first_year, 0)
    years_in = np.where(special, rng.integers(0, 5, size=n) % (years_in + 1), years_in)
    start = np.array([np.datetime64(f"{CURRENT_YEAR - y}-09-03") for y in years_in])
    mid_year = rng.random(n) < 0.08
    start = np.where(mid_year, start + rng.integers(14, 280, size=n).astype("timedelta64[D]"),
                     start)
    recent = np.datetime64(f"{CURRENT_YEAR}-01-06") + rng.integers(0, 300, size=n).astype(
        "timedelta64[D]")
    start = np.where(ap, recent, start)
    census = np.datetime64(CENSUS_DAY)
    pupils["start_date"] = np.minimum(start, census)
    pupils["moved_in"] = elsewhere
    return pupils


def _copy(table: str, frame: pd.DataFrame) -> None:
    """COPY a frame into ``table`` (columns named as the frame's)."""
    columns = ", ".join(frame.columns)
    records = frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
    with connection.cursor() as cursor:
        with cursor.connection.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for record in records:
                copy.write_row(record)


def _next_id(model) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {model._meta.db_table}")
        return cursor.fetchone()[0]


def _sync_sequence(model) -> None:
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
        )


def _academic_years() -> AcademicYear:
    current = None
    for start_year, terms in TERMS.items():
        year, _ = AcademicYear.objects.get_or_create(
            start_year=start_year,
            defaults={"start_date": date(start_year, 9, 1),
                      "end_date": date(start_year + 1, 8, 31)},
        )
        for name, start, end, hts, hte in terms:
            Term.objects.get_or_create(
                academic_year=year, name=name,
                defaults={"start_date": start, "end_date": end, "half_term_start": hts,
                          "half_term_end": hte},
            )
            for day, reason in BANK_HOLIDAYS.items():
                in_half_term = hts <= day <= hte
                if start <= day <= end and day.weekday() < 5 and not in_half_term:
                    ClosureDay.objects.get_or_create(date=day, school=None,
                                                     defaults={"reason": reason})
        if start_year == CURRENT_YEAR:
            current = year
    return current


def _people_names(rng, count: int) -> list[str]:
    from faker.providers.person.en_GB import Provider

    first = list(Provider.first_names_female) + list(Provider.first_names_male)
    last = list(Provider.last_names)
    return [f"{first[rng.integers(len(first))]} {last[rng.integers(len(last))]}"
            for _ in range(count)]


@transaction.atomic
def demo_city_generate(*, pupils: int = DEFAULT_PUPILS, seed: int = DEFAULT_SEED,
                       password: str = DEFAULT_PASSWORD) -> DemoCity:
    """Build the demo city on an empty database (callers check ``demo_city_exists`` first)."""
    rng = np.random.default_rng(seed)
    city = DemoCity(password=password)
    _academic_years()

    plan = _school_plan(rng)
    Locality.objects.bulk_create([Locality(name=n) for n in LOCALITIES], ignore_conflicts=True)
    locality_ids = dict(Locality.objects.values_list("name", "id"))
    schools = School.objects.bulk_create([
        School(urn=r.urn, la_code=LA_CODE, establishment_number=r.establishment_number,
               name=r.name, phase=r.phase, school_type=r.school_type, status="Open",
               statutory_low_age=r.statutory_low_age, statutory_high_age=r.statutory_high_age,
               postcode=r.postcode, locality_id=locality_ids[r.locality])
        for r in plan.itertuples()
    ])
    plan["id"] = [s.pk for s in schools]
    city.schools = len(schools)

    frame = _pupil_plan(rng, plan, pupils)
    n = len(frame)
    first_id = _next_id(Pupil)
    frame["id"] = np.arange(first_id, first_id + n)
    frame["school_id"] = plan["id"].to_numpy()[frame["school_idx"].to_numpy()]
    _copy(Pupil._meta.db_table,
          frame[["id", "upn", "surname", "forename", "date_of_birth", "sex"]])
    _sync_sequence(Pupil)
    city.pupils = n

    # Enrolments: one each; some AP pupils are dual registered (subsidiary at the AP, main at a
    # secondary school).
    enrol = pd.DataFrame({"pupil_id": frame["id"], "school_id": frame["school_id"],
                          "start_date": frame["start_date"], "end_date": None,
                          "registration": "C"})
    ap_rows = np.flatnonzero(plan["phase"].to_numpy()[frame["school_idx"].to_numpy()] == "ap")
    secondary_ids = plan.loc[plan["phase"] == "secondary", "id"].to_numpy()
    if len(ap_rows):
        dual = ap_rows[rng.random(len(ap_rows)) < 0.4]
        if len(dual) < min(3, len(ap_rows)):
            dual = ap_rows[: min(3, len(ap_rows))]
        enrol.loc[dual, "registration"] = "S"
        main = pd.DataFrame({
            "pupil_id": frame["id"].to_numpy()[dual],
            "school_id": secondary_ids[rng.integers(len(secondary_ids), size=len(dual))],
            "start_date": frame["start_date"].to_numpy()[dual] - np.timedelta64(700, "D"),
            "end_date": None, "registration": "M"})
        enrol = pd.concat([enrol, main], ignore_index=True)
        city.dual_registered = len(dual)
    previous = _previous_primary(rng, plan, frame)
    enrol = pd.concat([enrol, previous], ignore_index=True)
    city.transition = len(previous)
    first_id = _next_id(Enrolment)
    enrol.insert(0, "id", np.arange(first_id, first_id + len(enrol)))
    enrol["start_date"] = pd.to_datetime(enrol["start_date"]).dt.date
    _copy(Enrolment._meta.db_table, enrol)
    _sync_sequence(Enrolment)
    city.enrolments = len(enrol)

    snapshot = frame[["id", "year_group", "fsm", "sen", "eal", "ethnicity", "cin", "cp", "cla",
                      "young_carer", "postcode_area"]].rename(columns={"id": "pupil_id"})
    snapshot.insert(1, "effective_date", CENSUS_DAY)
    # Last year's census for pupils already in the city's schools then: a year group lower, the
    # same characteristics (so last year's marks and dashboards see last year's year groups).
    in_city = ((frame["start_date"].to_numpy() < np.datetime64(f"{CURRENT_YEAR}-09-01"))
               | frame["id"].isin(previous["pupil_id"]).to_numpy())
    in_city &= frame["year_number"].to_numpy() > YEAR_NUMBER["N1"]
    earlier = snapshot[in_city].copy()
    earlier["effective_date"] = PREVIOUS_CENSUS_DAY
    earlier["year_group"] = (frame.loc[in_city, "year_number"] - 1).map(YEAR_LABEL).to_numpy()
    snapshot = pd.concat([earlier, snapshot], ignore_index=True)
    first_id = _next_id(Characteristics)
    snapshot.insert(0, "id", np.arange(first_id, first_id + len(snapshot)))
    _copy(Characteristics._meta.db_table, snapshot)
    _sync_sequence(Characteristics)

    frame["date_of_birth"] = pd.to_datetime(frame["date_of_birth"]).dt.date
    _users(rng, city, plan, frame, password)
    return city


def _previous_primary(rng, plan: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """Last year's enrolment at a city primary (or junior) school, ended at the end of the summer
    term, for this year's Year 7 at secondary schools who did not move in from outside the city:
    the Y6→Y7 transition. 85% went to a primary in their secondary's locality."""
    columns = ["pupil_id", "school_id", "start_date", "end_date", "registration"]
    phase = plan["phase"].to_numpy()[frame["school_idx"].to_numpy()]
    rows = np.flatnonzero((phase == "secondary") & (frame["year_group"].to_numpy() == "7")
                          & ~frame["moved_in"].to_numpy(dtype=bool))
    feeders = np.flatnonzero(plan["phase"].isin(["primary", "junior"]).to_numpy())
    if not len(rows) or not len(feeders):
        return pd.DataFrame(columns=columns)
    feeder_locality = plan["locality"].to_numpy()[feeders]
    own_locality = plan["locality"].to_numpy()[frame["school_idx"].to_numpy()[rows]]
    chosen = feeders[rng.integers(len(feeders), size=len(rows))]
    local = rng.random(len(rows)) < 0.85
    draw = rng.random(len(rows))
    for locality in np.unique(own_locality):  # eight localities, not one pass per pupil
        nearby = feeders[feeder_locality == locality]
        mask = local & (own_locality == locality)
        if len(nearby) and mask.any():
            chosen[mask] = nearby[(draw[mask] * len(nearby)).astype(int)]
    junior = plan["phase"].to_numpy()[chosen] == "junior"
    return pd.DataFrame({
        "pupil_id": frame["id"].to_numpy()[rows],
        "school_id": plan["id"].to_numpy()[chosen],
        "start_date": np.where(junior, date(PREVIOUS_YEAR - 3, 9, 3),
                               date(PREVIOUS_YEAR - 6, 9, 3)),
        "end_date": PREVIOUS_YEAR_END,
        "registration": "C",
    })


def _users(rng, city: DemoCity, plan: pd.DataFrame, pupils: pd.DataFrame, password: str) -> None:
    hashed = make_password(password)  # hashed once: every demo user shares the password
    names = iter(_people_names(rng, 200))
    users = []

    def add(email, **flags):
        users.append(User(email=email, full_name=next(names), password=hashed, **flags))
        return users[-1]

    add(f"admin@{DEMO_DOMAIN}", is_administrator=True, is_staff=True, is_superuser=True,
        job_title="LA data team")
    add(f"manager@{DEMO_DOMAIN}", is_manager=True, job_title="Head of attendance service")
    add(f"manager2@{DEMO_DOMAIN}", is_manager=True, job_title="Virtual School head")
    officers = [add(f"officer@{DEMO_DOMAIN}" if i == 0 else f"officer{i + 1}@{DEMO_DOMAIN}",
                    is_la_officer=True, job_title="Attendance officer") for i in range(8)]
    workers = [add(f"socialworker@{DEMO_DOMAIN}" if i == 0
                   else f"socialworker{i + 1}@{DEMO_DOMAIN}",
                   is_social_worker=True, job_title="Social worker") for i in range(10)]
    first_secondary = plan.index[plan["phase"] == "secondary"][0]
    for idx, school in plan.iterrows():
        email = (f"lead@{DEMO_DOMAIN}" if idx == first_secondary
                 else f"lead.{school['urn']}@{DEMO_DOMAIN}")
        add(email, is_school_lead=True, school_id=int(school["id"]),
            job_title="Attendance lead")
    User.objects.bulk_create(users)
    city.users = {
        "administrator": 1, "manager": 2, "la_officer": len(officers),
        "school_lead": len(plan), "social_worker": len(workers),
    }

    # Link officers by locality: officer@ gets the first secondary's locality.
    localities = list(dict.fromkeys(
        [plan.loc[first_secondary, "locality"], *sorted(plan["locality"].unique())]))
    officer_of = {loc: officers[i % len(officers)] for i, loc in enumerate(localities)}
    by_officer: dict[int, list[int]] = {}
    for _, school in plan.iterrows():
        by_officer.setdefault(officer_of[school["locality"]].pk, []).append(int(school["id"]))
    for officer_id, school_ids in by_officer.items():
        School.objects.filter(id__in=school_ids).update(link_officer_id=officer_id)

    # Caseloads: every CIN/CP/CLA pupil allocated to a social worker.
    caseload = pupils.loc[pupils["cin"] | pupils["cp"] | pupils["cla"], "id"].to_numpy()
    caseload = caseload[rng.permutation(len(caseload))]
    allocations = pd.DataFrame({
        "pupil_id": caseload,
        "social_worker_id": [workers[i % len(workers)].pk for i in range(len(caseload))],
        "start_date": [date(2024, 9, 1) + timedelta(days=int(d))
                       for d in rng.integers(0, 390, size=len(caseload))],
        "end_date": None,
    })
    first_id = _next_id(SocialWorkerAllocation)
    allocations.insert(0, "id", np.arange(first_id, first_id + len(allocations)))
    _copy(SocialWorkerAllocation._meta.db_table, allocations)
    _sync_sequence(SocialWorkerAllocation)
    city.allocations = len(allocations)

    first = plan.loc[first_secondary]
    officer_schools = len(by_officer[officers[0].pk])
    city.demo_logins = [
        ("administrator", f"admin@{DEMO_DOMAIN}", "everything, Django admin"),
        ("manager", f"manager@{DEMO_DOMAIN}", "everything, mostly in aggregate"),
        ("LA officer", f"officer@{DEMO_DOMAIN}",
         f"linked to {officer_schools} schools in {first['locality']}, incl. {first['name']}"),
        ("school lead", f"lead@{DEMO_DOMAIN}", f"{first['name']} (URN {first['urn']})"),
        ("social worker", f"socialworker@{DEMO_DOMAIN}",
         f"{(allocations['social_worker_id'] == workers[0].pk).sum()} pupils on caseload"),
    ]


def demo_marks_generator():
    """``attendance.demo.demo_marks_generate`` if that module exists yet, else None."""
    if importlib.util.find_spec("attendance.demo") is None:
        return None
    from attendance import demo as attendance_demo

    return getattr(attendance_demo, "demo_marks_generate", None)
