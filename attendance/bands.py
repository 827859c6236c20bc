"""The five absence bands (Lincolnshire's model, DOMAIN.md), decided on session counts.

Never on a rounded or floating percentage: 95.00% is band 1, 94.99% band 2, 90.00% band 3,
80.00% band 3, 79.99% band 4, 50.00% band 5; no possible sessions, no band.
"""

from django.db import models


class Band(models.IntegerChoices):
    EXPECTED = 1, "Expected"
    AT_RISK_OF_PA = 2, "At risk of persistent absence"
    PERSISTENT_ABSENCE = 3, "Persistent absence"
    AT_RISK_OF_SA = 4, "At risk of severe absence"
    SEVERE_ABSENCE = 5, "Severe absence"


def band_for(*, attended: int, possible: int) -> Band | None:
    if possible <= 0:
        return None
    if 20 * attended >= 19 * possible:  # rate >= 95%
        return Band.EXPECTED
    if 10 * attended > 9 * possible:  # 90% < rate < 95%
        return Band.AT_RISK_OF_PA
    if 5 * attended >= 4 * possible:  # 80% <= rate <= 90%
        return Band.PERSISTENT_ABSENCE
    if 2 * attended > possible:  # 50% < rate < 80%
        return Band.AT_RISK_OF_SA
    return Band.SEVERE_ABSENCE


def band_sql(attended: str, possible: str) -> str:
    """The same rule as a SQL expression over two integer column expressions."""
    a, p = attended, possible
    return (
        f"CASE WHEN {p} <= 0 THEN NULL "
        f"WHEN 20 * {a} >= 19 * {p} THEN 1 "
        f"WHEN 10 * {a} > 9 * {p} THEN 2 "
        f"WHEN 5 * {a} >= 4 * {p} THEN 3 "
        f"WHEN 2 * {a} > {p} THEN 4 "
        f"ELSE 5 END"
    )


# Recommended next steps per band (002 seed, "Expected attendance" to "Severe absence").
RECOMMENDED_ACTIONS: dict[Band, list[str]] = {
    Band.EXPECTED: [
        "Universal support: first-day absence contact",
        "Regular communication with parents",
        "Regular monitoring of attendance data",
    ],
    Band.AT_RISK_OF_PA: [
        "Consider an early help assessment",
        "Set up a team around the child (TAC) if appropriate",
        "Offer pastoral support and home visits",
        "Discuss at the school attendance panel",
    ],
    Band.PERSISTENT_ABSENCE: [
        "Complete an early help assessment",
        "Consider a TAC and whole-family support",
        "Keep a detailed chronology of visits, contacts and outcomes",
        "Consider an attendance contract or education supervision order",
        "Legal intervention may be considered once support has been explored",
    ],
    Band.AT_RISK_OF_SA: [
        "Review all support: what is working and what is not",
        "Consult the school's attendance officer (required before legal proceedings)",
        "Consult the early help advisor",
        "Consider alternative provision",
    ],
    Band.SEVERE_ABSENCE: [
        "Discuss as a priority at the termly Targeting Support Meeting",
        "Escalate with the Virtual School if the child is looked after or has a social worker",
        "Consult Early Help on a whole-family plan",
        "Consider prosecution if absence is unauthorised (after consulting the attendance team)",
        "Consider a safeguarding referral",
    ],
}


# Shown to one decimal place, a pupil's rate must never contradict their band (94.96% is band 2,
# so it may not read "95.0%"). Round half up to tenths, then keep inside the band's shown range.
_SHOWN_RANGE = {  # band: (lowest, highest) in tenths of a per cent
    Band.EXPECTED: (950, 1000),
    Band.AT_RISK_OF_PA: (901, 949),
    Band.PERSISTENT_ABSENCE: (800, 900),
    Band.AT_RISK_OF_SA: (501, 799),
    Band.SEVERE_ABSENCE: (0, 500),
}


def rate_tenths(*, attended: int, possible: int) -> int | None:
    """The rate in tenths of a per cent, consistent with the band (None without sessions)."""
    band = band_for(attended=attended, possible=possible)
    if band is None:
        return None
    tenths = (2000 * attended + possible) // (2 * possible)  # half up, integers only
    low, high = _SHOWN_RANGE[band]
    return min(max(tenths, low), high)


def rate_text(*, attended: int, possible: int, percent_sign: bool = True) -> str:
    tenths = rate_tenths(attended=attended, possible=possible)
    if tenths is None:
        return ""
    return f"{tenths // 10}.{tenths % 10}" + ("%" if percent_sign else "")
