"""Chinese and financial numerals as residents write building and unit numbers."""
from __future__ import annotations

DIGITS = {"零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "三": 3, "叁": 3, "四": 4, "肆": 4,
          "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9}
TENS = {"十": 10, "拾": 10}
HUNDREDS = {"百": 100, "佰": 100}
NUMERAL_CHARS = "".join(DIGITS) + "".join(TENS) + "".join(HUNDREDS)


def to_int(text: str) -> int | None:
    """'12', '十二', '二十三', '贰', '一百零五' → the number; None when it is not a number."""
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for ch in text:
        if ch in DIGITS:
            current = current * 10 + DIGITS[ch] if current and ch not in ("零", "〇") else DIGITS[ch]
        elif ch in TENS:
            total += (current or 1) * 10
            current = 0
        elif ch in HUNDREDS:
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current if text else None
