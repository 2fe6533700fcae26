"""Label normalisation, stable series ids and plain-language subjects.

Sources spell the same thing many ways (RU, RUS, Russia; X, exports). The long frame
contract wants ISO 3166 alpha-3 codes, `export`/`import` and an HS code or `TOTAL`, so that
a series id (`rus-chn/import/total`) means the same thing whatever file it came from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

# ISO2, ISO3, English name. Trade partners that appear in common trade statistics, plus
# aggregates used by Eurostat and others (codes in the style Eurostat uses).
_COUNTRIES: tuple[tuple[str, str, str], ...] = (
    ("AR", "ARG", "Argentina"), ("AT", "AUT", "Austria"), ("AU", "AUS", "Australia"),
    ("AZ", "AZE", "Azerbaijan"), ("BE", "BEL", "Belgium"), ("BG", "BGR", "Bulgaria"),
    ("BR", "BRA", "Brazil"), ("BY", "BLR", "Belarus"), ("CA", "CAN", "Canada"),
    ("CH", "CHE", "Switzerland"), ("CL", "CHL", "Chile"), ("CN", "CHN", "China"),
    ("CY", "CYP", "Cyprus"), ("CZ", "CZE", "Czechia"), ("DE", "DEU", "Germany"),
    ("DK", "DNK", "Denmark"), ("EE", "EST", "Estonia"), ("EG", "EGY", "Egypt"),
    ("ES", "ESP", "Spain"), ("FI", "FIN", "Finland"), ("FR", "FRA", "France"),
    ("GB", "GBR", "the United Kingdom"), ("GE", "GEO", "Georgia"), ("GR", "GRC", "Greece"),
    ("HK", "HKG", "Hong Kong"), ("HR", "HRV", "Croatia"), ("HU", "HUN", "Hungary"),
    ("ID", "IDN", "Indonesia"), ("IE", "IRL", "Ireland"), ("IL", "ISR", "Israel"),
    ("IN", "IND", "India"), ("IR", "IRN", "Iran"), ("IT", "ITA", "Italy"),
    ("JP", "JPN", "Japan"), ("KG", "KGZ", "Kyrgyzstan"), ("KR", "KOR", "South Korea"),
    ("KZ", "KAZ", "Kazakhstan"), ("LT", "LTU", "Lithuania"), ("LU", "LUX", "Luxembourg"),
    ("LV", "LVA", "Latvia"), ("MN", "MNG", "Mongolia"), ("MT", "MLT", "Malta"),
    ("MX", "MEX", "Mexico"), ("MY", "MYS", "Malaysia"), ("NL", "NLD", "the Netherlands"),
    ("NO", "NOR", "Norway"), ("PL", "POL", "Poland"), ("PT", "PRT", "Portugal"),
    ("RO", "ROU", "Romania"), ("RS", "SRB", "Serbia"), ("RU", "RUS", "Russia"),
    ("SA", "SAU", "Saudi Arabia"), ("SE", "SWE", "Sweden"), ("SG", "SGP", "Singapore"),
    ("SI", "SVN", "Slovenia"), ("SK", "SVK", "Slovakia"), ("TH", "THA", "Thailand"),
    ("TJ", "TJK", "Tajikistan"), ("TM", "TKM", "Turkmenistan"), ("TR", "TUR", "Türkiye"),
    ("TW", "TWN", "Taiwan"), ("UA", "UKR", "Ukraine"), ("AE", "ARE", "the United Arab Emirates"),
    ("US", "USA", "the United States"), ("UZ", "UZB", "Uzbekistan"), ("VN", "VNM", "Vietnam"),
    ("ZA", "ZAF", "South Africa"), ("AM", "ARM", "Armenia"),
)
_AGGREGATES: tuple[tuple[str, str], ...] = (
    ("EU27", "the EU"), ("EA20", "the euro area"), ("EA", "the euro area"), ("W00", "the world"),
    ("EU", "the EU"),  # Eurostat's "European Union": its composition at the time (EU28 to 2020)
)
_NAME_ALIASES = {
    "european union - 27 countries": "EU27", "european union": "EU", "eu27_2020": "EU27",
    "euro area - 20 countries": "EA20", "euro area": "EA", "world": "W00",
    "united kingdom": "GBR", "united states": "USA", "netherlands": "NLD", "turkey": "TUR",
    "korea": "KOR", "czech republic": "CZE", "russian federation": "RUS",
}

_BY_CODE = {iso2: iso3 for iso2, iso3, _ in _COUNTRIES} | {iso3: iso3 for _, iso3, _ in _COUNTRIES}
_BY_NAME = {name.lower().removeprefix("the "): iso3 for _, iso3, name in _COUNTRIES} | _NAME_ALIASES
_NAMES = {iso3: name for _, iso3, name in _COUNTRIES} | dict(_AGGREGATES)
_FLOWS = {
    "x": "export", "export": "export", "exports": "export",
    "m": "import", "import": "import", "imports": "import",
}
_COUNTRY_LABELS = ("reporter", "partner")


def country_code(value: str) -> str:
    """ISO2, ISO3 or an English name -> ISO3 (aggregates keep their code); unknown stays."""
    text = value.strip()
    upper = text.upper()
    if upper in _BY_CODE:
        return _BY_CODE[upper]
    if upper in _NAMES:
        return upper
    return _BY_NAME.get(text.lower(), text)


def normalise_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """Apply the long-frame label conventions; values that are not understood are kept."""
    return {key: normalise_label(key, value) for key, value in labels.items()}


def normalise_label(key: str, value: object) -> str:
    """One label's convention (each label is normalised on its own, so a source can do it
    once per distinct value rather than once per row)."""
    text = str(value).strip()
    if key in _COUNTRY_LABELS:
        return country_code(text)
    if key == "flow":
        return _FLOWS.get(text.lower(), text.lower())
    if key == "commodity" and text.lower() in {"total", "all", "ttl"}:
        return "TOTAL"
    return text


def series_id(labels: Mapping[str, str]) -> str:
    """A readable id stable across runs: `rus-chn/import/total`, extra labels appended."""
    parts = []
    pair = [labels[k] for k in _COUNTRY_LABELS if labels.get(k)]
    if pair:
        parts.append("-".join(pair))
    for key in ("flow", "commodity"):
        if labels.get(key):
            parts.append(labels[key])
    if not parts:  # a file without labels still needs a non-empty id
        extra = {k: v for k, v in labels.items() if k != "source"} or labels
        parts = [f"{k}={v}" for k, v in sorted(extra.items())]
    return "/".join(parts).lower().replace(" ", "_")


def country_name(code: str) -> str:
    return _NAMES.get(code, code)


SUBJECT_FLOWS: Mapping[str, tuple[str, str]] = {"export": ("exports", "to"), "import": ("imports", "from")}


def subject(labels: Mapping[str, str], *, commodity: Callable[[str], str] | None = None,
            flows: Mapping[str, tuple[str, str]] = SUBJECT_FLOWS, fallback: str | None = None) -> str:
    """`Russia's imports from China`, `China's exports of HS 8458 to Russia`. `commodity` words
    an HS code ("HS 8458" by default), `flows` the flows named (noun, preposition); without a
    reporter or a known flow, `fallback`, else the series id."""
    reporter, partner, flow = labels.get("reporter"), labels.get("partner"), labels.get("flow")
    code = labels.get("commodity")
    if not reporter or flow is None or flow not in flows:
        return fallback or labels.get("series") or series_id(labels)
    owner = country_name(reporter)
    noun, preposition = flows[flow]
    what = f"{owner[:1].upper()}{owner[1:]}'s {noun}"
    if code and code.upper() != "TOTAL":
        what += f" of {commodity(code)}" if commodity else f" of HS {code}"
    if partner:
        what += f" {preposition} {country_name(partner)}"
    return what
