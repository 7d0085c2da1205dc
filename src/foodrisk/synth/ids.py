"""Identifiers: USCC (GB 32100), organisation code (GB 11714), SC/JY licence numbers — vectorised."""

from __future__ import annotations

import numpy as np

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64)
ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)

_USCC_VALUE = np.full(128, -1, dtype=np.int64)
for _i, _c in enumerate(USCC_ALPHABET):
    _USCC_VALUE[ord(_c)] = _i
_ORG_VALUE = np.full(128, -1, dtype=np.int64)
for _i in range(10):
    _ORG_VALUE[ord("0") + _i] = _i
for _i in range(26):
    _ORG_VALUE[ord("A") + _i] = 10 + _i


def org_check_char(first8: str) -> str:
    """GB 11714 check character for the first 8 characters of an organisation code."""
    total = sum(int(_ORG_VALUE[ord(c)]) * int(w) for c, w in zip(first8, ORG_WEIGHTS, strict=True))
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def org_code_valid(code: str) -> bool:
    if len(code) != 9 or any(not ("0" <= c <= "9" or "A" <= c <= "Z") for c in code[:8]):
        return False
    return org_check_char(code[:8]) == code[8]


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * int(w) for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total) % 31]


def _chars(arr: np.ndarray, width: int) -> np.ndarray:
    """(n,) fixed-width unicode array → (n, width) int codes."""
    return np.ascontiguousarray(arr.astype(f"<U{width}")).view(np.uint32).reshape(len(arr), width).astype(np.int64)


def _from_codes(codes: np.ndarray) -> np.ndarray:
    width = codes.shape[1]
    return np.ascontiguousarray(codes.astype(np.uint32)).view(f"<U{width}").reshape(-1)


def make_usccs(rng: np.random.Generator, prefix2: np.ndarray, region6: np.ndarray, modern: np.ndarray) -> np.ndarray:
    """Build unique valid USCCs.

    prefix2: authority+type (e.g. "91", "92", "12"); region6: GB/T 2260 code of the registering authority;
    modern: True → organisation code ``MA`` + 6 alphanumerics (post-2015 style), else 8 digits.
    The 9th organisation-code character is the GB 11714 check, the 18th the GB 32100 check.
    """
    n = len(prefix2)
    alpha = np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8).astype(np.int64)
    body = np.empty((n, 8), dtype=np.int64)
    seen: set[str] = set()
    todo = np.arange(n)
    org = np.empty(n, dtype="<U9")
    while len(todo):
        m = len(todo)
        digits = rng.integers(0, 10, size=(m, 8)) + ord("0")
        alnum = alpha[rng.integers(0, 31, size=(m, 8))]
        b = np.where(modern[todo, None], alnum, digits)
        b[modern[todo], 0] = ord("M")
        b[modern[todo], 1] = ord("A")
        body[todo] = b
        s = _ORG_VALUE[b] @ ORG_WEIGHTS
        c9 = 11 - s % 11
        c9_code = np.where(c9 == 10, ord("X"), np.where(c9 == 11, ord("0"), c9 + ord("0")))
        codes = np.concatenate([b, c9_code[:, None]], axis=1)
        cand = _from_codes(codes)
        retry = []
        for k, (idx, oc) in enumerate(zip(todo, cand, strict=True)):
            if oc in seen:
                retry.append(k)
            else:
                seen.add(oc)
                org[idx] = oc
        todo = todo[retry]
    first17 = np.char.add(np.char.add(prefix2.astype("<U2"), region6.astype("<U6")), org)
    codes = _chars(first17, 17)
    total = _USCC_VALUE[codes] @ USCC_WEIGHTS
    check = alpha[(31 - total % 31) % 31]
    return _from_codes(np.concatenate([codes, check[:, None]], axis=1))


def uscc_valid_vec(usccs: np.ndarray) -> np.ndarray:
    """Vectorised GB 32100 check (format + check char); mirrors ``stdnum.cn.uscc.is_valid``."""
    arr = np.asarray(usccs, dtype=object)
    ok = np.array([isinstance(u, str) and len(u) == 18 for u in arr])
    out = np.zeros(len(arr), dtype=bool)
    if not ok.any():
        return out
    codes = _chars(arr[ok].astype("<U18"), 18)
    vals = _USCC_VALUE[np.clip(codes, 0, 127)]
    fmt = (codes < 128).all(axis=1) & (vals >= 0).all(axis=1) & (codes[:, :8] >= ord("0")).all(axis=1) & (codes[:, :8] <= ord("9")).all(axis=1)
    total = np.where(vals[:, :17] >= 0, vals[:, :17], 0) @ USCC_WEIGHTS
    out[ok] = fmt & (vals[:, 17] == (31 - total % 31) % 31)
    return out


def sc_numbers(rng: np.random.Generator, category3: np.ndarray, county6: np.ndarray) -> np.ndarray:
    """``SC`` + 3 category + 6 region + 4 sequence + 1 check (check digit opaque: random)."""
    n = len(category3)
    seq = rng.permutation(n) % 10000 + 1
    chk = rng.integers(0, 10, size=n)
    return np.array([f"SC{c}{r}{s:04d}{k}" for c, r, s, k in zip(category3, county6, seq.tolist(), chk.tolist(), strict=True)], dtype=object)


def jy_numbers(rng: np.random.Generator, type1: np.ndarray, county6: np.ndarray) -> np.ndarray:
    """``JY`` + 1 business type + 6 region + 6 sequence + 1 check (check digit opaque: random)."""
    n = len(type1)
    seq = rng.permutation(n) % 1000000 + 1
    chk = rng.integers(0, 10, size=n)
    return np.array([f"JY{t}{r}{s:06d}{k}" for t, r, s, k in zip(type1, county6, seq.tolist(), chk.tolist(), strict=True)], dtype=object)
