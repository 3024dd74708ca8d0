"""Small text helpers."""


def slugify(text, sep="-"):
    out = []
    last_sep = True
    for ch in text.lower():
        if ch.isalnum():
            out.append(ch)
            last_sep = False
        elif not last_sep:
            out.append(sep)
            last_sep = True
    if out and out[-1] == sep:
        out.pop()
    return "".join(out)


def wrap(text, width):
    if width < 1:
        raise ValueError("width must be positive")
    lines = []
    line = ""
    for word in text.split():
        if not line:
            line = word
        elif len(line) + 1 + len(word) <= width:
            line = line + " " + word
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def truncate(text, limit, ellipsis="..."):
    if len(text) <= limit:
        return text
    if limit <= len(ellipsis):
        return ellipsis[:limit]
    return text[: limit - len(ellipsis)] + ellipsis


def count_words(text):
    counts = {}
    for word in text.lower().split():
        word = word.strip(".,;:!?\"'")
        if not word:
            continue
        counts[word] = counts.get(word, 0) + 1
    return counts


def is_palindrome(text):
    letters = [c.lower() for c in text if c.isalnum()]
    return letters == letters[::-1]


def caesar(text, shift):
    out = []
    for ch in text:
        if "a" <= ch <= "z":
            out.append(chr((ord(ch) - ord("a") + shift) % 26 + ord("a")))
        elif "A" <= ch <= "Z":
            out.append(chr((ord(ch) - ord("A") + shift) % 26 + ord("A")))
        else:
            out.append(ch)
    return "".join(out)


def parse_kv(line, sep="=", comment="#"):
    line = line.split(comment, 1)[0].strip()
    if not line:
        return None
    if sep not in line:
        raise ValueError(f"no {sep!r} in {line!r}")
    key, value = line.split(sep, 1)
    key = key.strip()
    if not key:
        raise ValueError("empty key")
    return key, value.strip()


def roman(n):
    if not 0 < n < 4000:
        raise ValueError("out of range")
    table = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
             (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = ""
    for value, letters in table:
        count, n = divmod(n, value)
        out += letters * count
    return out
