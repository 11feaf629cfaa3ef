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


def is_currency(code: str) -> bool:
    """Whether ``code`` is an active ISO 4217 currency (exact, upper case)."""
    return code in _KNOWN
