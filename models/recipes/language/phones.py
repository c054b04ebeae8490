"""Phone targets for every language: espeak-ng's phonemiser, reduced to one inventory shared across languages.

A language-ID model that has heard one or two real speakers per language learns their voices as readily as their
languages. Phones are shared: an /a/ is an /a/ in Spanish, Italian and Russian, so a recogniser trained to write
phones learns what each sounds like from every speaker of every language, and what is left to tell languages apart
is which phones occur and in what order. espeak-ng phonemises each language it speaks (`--ipa`, one phoneme per
`_`-separated item); the reduction below strips what would split a shared phone into per-language copies (stress,
length, tone numbers, secondary articulation marks), then keeps the phones the corpus has enough of.

    text_to_phones(text, voice) -> ["h", "o", "l", "a"]
"""
import functools
import re
import subprocess
import unicodedata

# Marks that carry stress, length, syllabification, tone or a secondary articulation; dropped from every phone.
DROP = set("ˈˌːˑ‿|‖.-_ˠˤʰʱʲʷ̃ʼ˞'\"^") | {chr(c) for c in range(0x2E5, 0x2EA)} | set("0123456789")
# espeak-ng writes a few phones as two letters with a tie; these are kept as one unit.
TIE = "͡"


def reduce_phone(p):
    """One espeak-ng IPA phoneme -> its shared-inventory form ('' when nothing is left)."""
    p = unicodedata.normalize("NFD", p.replace(TIE, ""))
    return "".join(c for c in p if c not in DROP and not unicodedata.combining(c))


@functools.lru_cache(maxsize=None)
def _espeak(text, voice):
    out = subprocess.run(["espeak-ng", "-q", "-v", voice, "--ipa", "--sep=_", "--stdin"], input=text.encode(),
                         check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    return out.decode("utf-8", errors="replace")


def text_to_phones(text, voice):
    """Text read in `voice`'s language -> a list of reduced phones (word boundaries are not targets)."""
    phones = []
    # "(en)" and the like mark where espeak-ng switched language for a word; the marks are not phones
    for word in re.sub(r"\([a-z-]+\)", " ", _espeak(text, voice)).split():
        for p in word.split("_"):
            r = reduce_phone(p)
            if r:
                phones.append(r)
    return phones


def build_inventory(sequences, min_count):
    """Phones seen at least `min_count` times, most frequent first; rarer ones are left out of the targets."""
    counts = {}
    for seq in sequences:
        for p in seq:
            counts[p] = counts.get(p, 0) + 1
    return sorted((p for p, n in counts.items() if n >= min_count), key=lambda p: (-counts[p], p))
