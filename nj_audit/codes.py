"""Check characters of the two national codes the contract uses (pure Python, no data stack):
GB 32100-2015 unified social credit codes (institutions) and GB 11643-1999 resident ID numbers."""

from __future__ import annotations

# GB 32100-2015: 31 characters (no I, O, Z, S, V); weights 3^i mod 31.
GB32100_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
GB32100_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
# GB 11643-1999: weights 2^(17-i) mod 11; check value 10 is written X.
GB11643_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))


def gb32100_check_char(first17: str) -> str:
    """The 18th character of a unified social credit code whose first 17 are given."""
    total = sum(GB32100_CHARS.index(c) * w for c, w in zip(first17, GB32100_WEIGHTS))
    return GB32100_CHARS[(31 - total % 31) % 31]


def gb11643_check_char(first17: str) -> str:
    """The 18th character of a resident ID number whose first 17 digits are given."""
    total = sum(int(c) * w for c, w in zip(first17, GB11643_WEIGHTS))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def is_org_code(value: str) -> bool:
    """An 18-character unified social credit code with the right check character."""
    try:
        return len(value) == 18 and gb32100_check_char(value[:17]) == value[17]
    except ValueError:  # a character outside the code's alphabet
        return False
