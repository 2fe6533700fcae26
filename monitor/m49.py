"""UN M49 numeric area codes <-> ISO 3166 alpha-3, as UN Comtrade uses them.

Comtrade identifies reporters and partners by number. Its v1 answers also carry ISO codes,
but a desk writes `reporter: 410` in a config and some answers lack the ISO fields, so the
source maps both ways. Comtrade departs from M49 for a few areas (842 USA, 251 France, 699
India, 757 Switzerland, 579 Norway: territory definitions); both numbers map to the country.
"""

from __future__ import annotations

from monitor.labels import country_code

# M49 code, ISO3; Comtrade's own code first where it differs, so ISO3 -> code gives it.
_CODES: tuple[tuple[int, str], ...] = (
    (0, "W00"),
    (32, "ARG"), (40, "AUT"), (36, "AUS"), (31, "AZE"), (56, "BEL"), (100, "BGR"),
    (76, "BRA"), (112, "BLR"), (124, "CAN"), (757, "CHE"), (756, "CHE"), (152, "CHL"),
    (156, "CHN"), (196, "CYP"), (203, "CZE"), (276, "DEU"), (208, "DNK"), (233, "EST"),
    (818, "EGY"), (724, "ESP"), (246, "FIN"), (251, "FRA"), (250, "FRA"), (826, "GBR"),
    (268, "GEO"), (300, "GRC"), (344, "HKG"), (191, "HRV"), (348, "HUN"), (360, "IDN"),
    (372, "IRL"), (376, "ISR"), (699, "IND"), (356, "IND"), (364, "IRN"), (380, "ITA"),
    (392, "JPN"), (417, "KGZ"), (410, "KOR"), (398, "KAZ"), (440, "LTU"), (442, "LUX"),
    (428, "LVA"), (496, "MNG"), (470, "MLT"), (484, "MEX"), (458, "MYS"), (528, "NLD"),
    (579, "NOR"), (578, "NOR"), (616, "POL"), (620, "PRT"), (642, "ROU"), (688, "SRB"),
    (643, "RUS"), (682, "SAU"), (752, "SWE"), (702, "SGP"), (705, "SVN"), (703, "SVK"),
    (764, "THA"), (762, "TJK"), (795, "TKM"), (792, "TUR"), (158, "TWN"), (804, "UKR"),
    (784, "ARE"), (842, "USA"), (840, "USA"), (860, "UZB"), (704, "VNM"), (710, "ZAF"),
    (51, "ARM"),
)
M49_TO_ISO3: dict[int, str] = {code: iso3 for code, iso3 in _CODES}
ISO3_TO_CODE: dict[str, int] = {}
for _code, _iso3 in _CODES:
    ISO3_TO_CODE.setdefault(_iso3, _code)


def iso3(code: int | str) -> str:
    """A numeric area code -> ISO3; an unknown code stays its numeric string."""
    text = str(code).strip()
    try:
        return M49_TO_ISO3.get(int(text), text)
    except ValueError:
        return text


def area_code(value: int | str) -> str:
    """What a config may write for an area (410, "410", "KOR", "KR", "South Korea") -> the
    numeric code Comtrade expects; ValueError for a name it cannot place."""
    if isinstance(value, bool):
        raise ValueError(f"invalid area {value!r}")
    text = str(value).strip()
    if text.isdigit():
        return str(int(text))
    iso = country_code(text).upper()
    if iso in ISO3_TO_CODE:
        return str(ISO3_TO_CODE[iso])
    raise ValueError(f"unknown area {value!r}: use a UN Comtrade numeric code (e.g. 156 for China) "
                     "or an ISO code it knows")
