"""Text normalisation for the Callscribe telephony ASR recipe.

Output alphabet: lowercase a-z, apostrophe and single spaces. Numbers are
spelled as words (digit strings of 4+ digits are read digit by digit, the way
phone, case and extension numbers are spoken on a hotline).
"""
import re

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
        "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
ORD_IRREG = {"one": "first", "two": "second", "three": "third", "five": "fifth",
             "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}


def num_words(n):
    n = int(n)
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    if n < 1000:
        r = n % 100
        return ONES[n // 100] + " hundred" + ("" if r == 0 else " and " + num_words(r))
    if n < 1_000_000:
        r = n % 1000
        head = num_words(n // 1000) + " thousand"
        if r == 0:
            return head
        return head + (" and " if r < 100 else " ") + num_words(r)
    r = n % 1_000_000
    head = num_words(n // 1_000_000) + " million"
    return head if r == 0 else head + " " + num_words(r)


def ordinal_words(n):
    w = num_words(n).split(" ")
    last = w[-1]
    if last in ORD_IRREG:
        last = ORD_IRREG[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last = last + "th"
    return " ".join(w[:-1] + [last])


def digits_words(s):
    return " ".join(ONES[int(c)] for c in s if c.isdigit())


def _num_token(m):
    s = m.group(0)
    if "." in s:
        a, b = s.split(".", 1)
        return num_words(a) + " point " + digits_words(b)
    if len(s) >= 4 or (len(s) > 1 and s[0] == "0"):
        return digits_words(s)
    return num_words(s)


SYMBOLS = {"#": " pound ", "*": " star ", "%": " percent ", "&": " and ", "@": " at ",
           "+": " plus ", "=": " equals ", "$": " dollars "}


def normalize(text):
    t = text.lower()
    t = re.sub(r"\[[^\]]*\]", " ", t)
    t = re.sub(r"(\d+)(st|nd|rd|th)\b", lambda m: " " + ordinal_words(m.group(1)) + " ", t)
    t = re.sub(r"\$(\d+)(?:\.(\d\d))?", lambda m: " " + num_words(m.group(1)) + " dollars" +
               ((" and " + num_words(m.group(2)) + " cents") if m.group(2) and int(m.group(2)) else "") + " ", t)
    t = re.sub(r"(\d+):(\d\d)", lambda m: " " + num_words(m.group(1)) + " " +
               ("o'clock" if m.group(2) == "00" else ("oh " + ONES[int(m.group(2))] if m.group(2)[0] == "0" else num_words(m.group(2)))) + " ", t)
    t = re.sub(r"(\d+)([a-z])", r"\1 \2", t)
    t = re.sub(r"([a-z])(\d)", r"\1 \2", t)
    t = re.sub(r"\d+(\.\d+)?", lambda m: " " + _num_token(m) + " ", t)
    for k, v in SYMBOLS.items():
        t = t.replace(k, v)
    t = t.replace("\u2019", "'")
    t = re.sub(r"[^a-z' ]", " ", t)
    t = re.sub(r"(^|\s)'+|'+(\s|$)", " ", t)
    t = re.sub(r"\s+", " ", t).strip()
    return t


if __name__ == "__main__":
    import sys
    for line in sys.stdin:
        print(normalize(line))
