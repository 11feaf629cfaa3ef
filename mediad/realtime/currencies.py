"""The currencies a tip may be in: ISO 4217's active alphabetic codes (List One).

Written from the standard's list as amended to 2025 (Zimbabwe's ZWG, Sierra Leone's SLE,
Venezuela's VED and VES, the Caribbean guilder XCG beside the Netherlands Antillean guilder
ANG it replaces). Only money a person can send: the fund codes (BOV, CHE, CHW, CLF, COU, MXV,
USN, UYI, UYW), precious metals (XAU, XAG, XPD, XPT), bond-market and drawing-right units
(XBA-XBD, XDR, XSU, XUA), the testing code XTS and "no currency" XXX are left out.
Withdrawn codes (HRK, SLL, ZWL, CUC, ...) are refused: a provider sends the current one.
"""

from __future__ import annotations

ISO_4217_CURRENCIES: tuple[str, ...] = (
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN",
    "BAM", "BBD", "BDT", "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN",
    "BWP", "BYN", "BZD",
    "CAD", "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK",
    "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR",
    "FJD", "FKP",
    "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD",
    "HKD", "HNL", "HTG", "HUF",
    "IDR", "ILS", "INR", "IQD", "IRR", "ISK",
    "JMD", "JOD", "JPY",
    "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT",
    "LAK", "LBP", "LKR", "LRD", "LSL", "LYD",
    "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN",
    "MYR", "MZN",
    "NAD", "NGN", "NIO", "NOK", "NPR", "NZD",
    "OMR",
    "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG",
    "QAR",
    "RON", "RSD", "RUB", "RWF",
    "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN",
    "SVC", "SYP", "SZL",
    "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS",
    "UAH", "UGX", "USD", "UYU", "UZS",
    "VED", "VES", "VND", "VUV",
    "WST",
    "XAF", "XCD", "XCG", "XOF", "XPF",
    "YER",
    "ZAR", "ZMW", "ZWG",
)

_KNOWN = frozenset(ISO_4217_CURRENCIES)

MINOR_DIGITS: dict[str, int] = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
                     "UGX", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
"""ISO 4217's minor unit where it is not two decimal digits (as for every other code)."""


def is_currency(code: str) -> bool:
    """Whether ``code`` is an active ISO 4217 currency (exact, upper case)."""
    return code in _KNOWN


def major_amount(amount_minor: int, code: str) -> float:
    """An amount in the currency's minor unit, in its major one: 500 USD cents is 5.0,
    500 JPY is 500.0, 500 BHD fils is 0.5."""
    scale: int = 10 ** MINOR_DIGITS.get(code, 2)
    return amount_minor / scale
