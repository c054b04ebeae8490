"""Builds the language-ID corpus: real recordings that Debian ships, plus espeak-ng voices.

Everything is written as 8 kHz 16-bit mono WAV under work/corpus/, with work/corpus/index.tsv:
    path  tags  speaker  split  kind
`tags` is the set of class tags the audio may belong to (comma-separated): one tag when its variant is
known, every variant of the language when only the language is (Tux Paint's narrators).
`split` is train, dev (a tenth of each training speaker, for checkpoint choice) or heldout (the
asterisk-prompt-* speakers, never trained on). `kind` is real, pseudo or synth. What each espeak-ng voice said is
in work/corpus/synth_text.tsv (path, voice, text), for the phone recogniser (train_phones.py).

Pseudo-speakers: with one or two real speakers per language, a network learns voices as readily as languages.
Each real speaker of the Asterisk prompts, festvox-ru and Tux Paint gets `--pseudo` shifted copies of all its
recordings (sox `pitch`, which moves the fundamental and the formants together, by 250-600 cents, alternately
down and up; `tempo` 0.9-1.1), each utterance through a telephone codec drawn at random (GSM 06.10, IMA ADPCM,
G.711 mu-law or A-law, or none). fillets-ng's dialogues are left as they are: several actors already speak there.
"""
import argparse
import gettext
import glob
import hashlib
import io
import os
import random
import re
import subprocess
import sys
import wave
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from labels import CLASSES, LANGUAGE_OF

HERE = os.path.dirname(os.path.abspath(__file__))
SOUNDS = "/usr/share/asterisk/sounds"
FILLETS = "/usr/share/games/fillets-ng"
TUXPAINT = "/usr/share/tuxpaint/stamps"
FESTVOX_RU = "/usr/share/festival/voices/russian/msu_ru_nsh_clunits/wav"
ESPEAK_VARIANTS = "/usr/lib/x86_64-linux-gnu/espeak-ng-data/voices/!v"

# Real speakers: (source id, glob, tags, split).  Held-out speakers come from packages never trained on.
REAL = [
    ("ast-en-allison", f"{SOUNDS}/en_US_f_Allison/*.wav", "en-US", "train"),
    ("ast-es-allison", f"{SOUNDS}/es_MX_f_Allison/*.wav", "es-419", "train"),
    ("ast-fr-june", f"{SOUNDS}/fr_CA_f_June/*.wav", "fr-CA", "train"),
    ("ast-it-carlo", f"{SOUNDS}/it_IT_m_Carlo/*.wav", "it", "train"),
    ("ast-ru-ivrvoice", f"{SOUNDS}/ru_RU_f_IvrvoiceRU/*.wav", "ru", "train"),
    ("festvox-ru-nsh", f"{FESTVOX_RU}/*.wav", "ru", "train"),
    ("fillets-nl", f"{FILLETS}/sound/*/nl/*.ogg", "nl", "train"),
    ("fillets-cs", f"{FILLETS}/sound/*/cs/*.ogg", "cs", "train", 2),
    # No fillets-en: the game's English is subtitles only; its sound/*/en/*.ogg files (192 clips, 6.3 min) are
    # grunts, clicks and music, not speech.
    # Tux Paint's spoken stamp descriptions: other real speakers, variant unknown, so every variant's tag.
    ("tuxpaint-es", f"{TUXPAINT}/**/*_desc_es.ogg", "es-ES,es-419", "train"),
    ("tuxpaint-fr", f"{TUXPAINT}/**/*_desc_fr.ogg", "fr-FR,fr-CA", "train"),
    ("tuxpaint-ru", f"{TUXPAINT}/**/*_desc_ru.ogg", "ru", "train"),
    ("tuxpaint-nl", f"{TUXPAINT}/**/*_desc_nl.ogg", "nl", "train"),
    ("tuxpaint-en", f"{TUXPAINT}/**/*_desc.ogg", "en-US,en-GB,en-GB-scotland,en-029", "train"),
    ("heldout-es-co", f"{SOUNDS}/es/**/*.gsm", "es-419", "heldout"),
    ("heldout-fr-armelle", f"{SOUNDS}/fr/**/*.gsm", "fr-FR", "heldout"),
    ("heldout-it-menardi", f"{SOUNDS}/it_IT_f_Menardi/*.wav", "it", "heldout"),
]

# espeak-ng voices per class, and where their text comes from.
SYNTH = {
    "en-US": (["en-us", "en-us-nyc"], "en"),
    "en-GB": (["en-gb", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd"], "en"),
    "en-GB-scotland": (["en-gb-scotland"], "en"),
    "en-029": (["en-029"], "en"),
    "es-ES": (["es"], "es"),
    "es-419": (["es-419"], "es"),
    "fr-FR": (["fr-fr"], "fr"),
    "it": (["it"], "it"),
    "ru": (["ru"], "ru"),
    "nl": (["nl"], "nl"),
    "cs": (["cs"], "cs"),
    "de": (["de"], "de"),
    "pt-PT": (["pt"], "pt_PT"),
    "pt-BR": (["pt-br"], "pt_BR"),
    "zh": (["cmn"], "zh_CN"),
    "yue": (["yue"], "zh_HK"),
    "pl": (["pl"], "pl"),
    "sv": (["sv"], "sv"),
}


def fillets_text(lang):
    out = []
    # English was never voiced as a translation: it is the subtitle inside every dialogs_<lang>.lua.
    for f in sorted(glob.glob(f"{FILLETS}/script/*/dialogs_{lang if lang != 'en' else 'cs'}.lua")):
        src = open(f, encoding="utf-8", errors="replace").read()
        if lang == "en":
            out += re.findall(r'dialogId\("[^"]*",\s*"[^"]*",\s*"((?:[^"\\]|\\.)*)"\)', src)
        else:
            out += re.findall(r'dialogStr\("((?:[^"\\]|\\.)*)"\)', src)
    return out


def mo_text(locale):
    out = []
    for f in sorted(glob.glob(f"/usr/share/locale/{locale}/LC_MESSAGES/*.mo")):
        try:
            cat = gettext.GNUTranslations(open(f, "rb"))._catalog  # noqa: SLF001 (no public accessor)
        except Exception:
            continue
        for v in cat.values():
            if isinstance(v, str):
                out.append(v)
    return out


def clean(lines, cjk=False):
    seen, out = set(), []
    for s in lines:
        s = s.replace("\\n", " ").replace("\\", "")
        if re.search(r"[%<>{}_&$=/@|\[\]]", s):
            continue
        s = re.sub(r"\s+", " ", s).strip()
        if cjk:
            if len(re.findall(r"[\u4e00-\u9fff]", s)) < 6 or len(s) > 60:
                continue
        elif not (12 <= len(s) <= 140) or len(s.split()) < 3:
            continue
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def texts_for(src):
    if src == "en":
        lines = fillets_text("en")
        tr = "/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz"
        if os.path.exists(tr):
            import gzip
            lines += [l.split(":", 1)[1] for l in gzip.open(tr, "rt") if ":" in l and "[" not in l]
        return clean(lines)
    if src in ("pt_PT", "pt_BR", "zh_CN", "zh_HK"):
        locs = {"pt_PT": ["pt_PT", "pt"], "pt_BR": ["pt_BR"], "zh_CN": ["zh_CN"], "zh_HK": ["zh_HK"]}[src]
        lines = []
        for l in locs:
            lines += mo_text(l)
        return clean(lines, cjk=src.startswith("zh"))
    return clean(fillets_text(src))


def to_wav8k(src, dst):
    """Any input sox or ffmpeg reads -> 8 kHz mono int16 WAV."""
    if src.endswith(".ogg"):
        cmd = ["ffmpeg", "-v", "error", "-y", "-i", src, "-ac", "1", "-ar", "8000", "-sample_fmt", "s16", dst]
    else:
        cmd = ["sox", "-q", src, "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", dst]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def write_wav8k(wav_bytes, dst):
    """espeak-ng's WAV (22050 Hz) -> 8 kHz by truncating the spectrum at 4 kHz (no process per file)."""
    with wave.open(io.BytesIO(wav_bytes)) as w:
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    n_out = int(round(len(x) * 8000 / rate))
    X = np.fft.rfft(x)
    keep = n_out // 2 + 1
    y = np.fft.irfft(X[:keep], n=n_out) * (n_out / len(x))
    y = np.clip(np.round(y), -32768, 32767).astype("<i2")
    with wave.open(dst, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(y.tobytes())


PSEUDO_SOURCES = ("ast-", "festvox-", "tuxpaint-")
CODECS = (["-t", "gsm"], ["-t", "wav", "-e", "ima-adpcm"], ["-t", "wav", "-e", "u-law"], ["-t", "wav", "-e", "a-law"],
          None)


def pseudo_speaker(src, dst, cents, tempo, codec):
    """A real 8 kHz recording -> the same words, pitch and formants shifted, tempo changed, through `codec`."""
    effects = ["pitch", f"{cents:.0f}", "tempo", "-s", f"{tempo:.3f}", "rate", "8000"]
    pcm = ["-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer"]
    if codec is None:
        subprocess.run(["sox", "-q", src, *pcm, dst, *effects], check=True, stderr=subprocess.DEVNULL)
        return
    coded = subprocess.run(["sox", "-q", src, "-r", "8000", "-c", "1", *codec, "-", *effects], check=True,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    subprocess.run(["sox", "-q", *codec[:2], "-", *pcm, dst], input=coded, check=True, stderr=subprocess.DEVNULL)


def corpus_path(out, sid, pattern, f):
    """Where source recording `f` of speaker `sid` (found by glob `pattern`) lands in the corpus."""
    name = os.path.relpath(f, os.path.dirname(pattern.split("*")[0])).replace("/", "_")
    return f"{out}/{sid}/{os.path.splitext(name)[0]}.wav"


def split_of(path, base):
    if base == "heldout":
        return "heldout"
    h = int(hashlib.md5(os.path.basename(path).encode()).hexdigest(), 16)
    return "dev" if h % 10 == 0 else "train"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "work", "corpus"))
    ap.add_argument("--n-synth", type=int, default=260, help="espeak-ng utterances per class")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--pseudo", type=int, default=2, help="pseudo-speakers per real Asterisk/festvox/Tux Paint speaker")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rows, jobs, pseudo_jobs = [], [], []

    for sid, pattern, tags, base, *every in REAL:
        # Every n-th file where a source is large, to keep decoding time down.
        files = sorted(glob.glob(pattern, recursive=True))[:: every[0] if every else 1]
        if not files:
            sys.exit(f"no recordings for {sid} at {pattern}: install the package (see README)")
        os.makedirs(f"{args.out}/{sid}", exist_ok=True)
        for f in files:
            dst = corpus_path(args.out, sid, pattern, f)
            jobs.append((f, dst))
            rows.append((dst, tags, sid, split_of(f, base), "real"))
        print(f"{sid}: {len(files)} files", flush=True)
        if base != "train" or not sid.startswith(PSEUDO_SOURCES):
            continue
        prnd = random.Random(sid)
        own = rows[-len(files):]  # this speaker's rows, just added
        for k in range(args.pseudo):
            cents = (1 if k % 2 else -1) * prnd.uniform(250, 600)  # alternately lower and higher voices
            tempo = prnd.uniform(0.9, 1.1)
            os.makedirs(f"{args.out}/{sid}-p{k}", exist_ok=True)
            for dst, _, _, split, _ in own:
                out = f"{args.out}/{sid}-p{k}/{os.path.basename(dst)}"
                pseudo_jobs.append((dst, out, cents, tempo, prnd.choice(CODECS)))
                rows.append((out, tags, f"{sid}-p{k}", split, "pseudo"))

    rnd = random.Random(19)
    variants = sorted(os.listdir(ESPEAK_VARIANTS))
    variants = [v for v in variants if not v.startswith(("whisper", "Demonic", "UniRobot", "Tweaky", "anikaRobot"))]
    synth_jobs = []
    for tag, (voices, text_src) in SYNTH.items():
        assert tag in CLASSES, tag
        lines = texts_for(text_src)
        if len(lines) < 50:
            sys.exit(f"only {len(lines)} text lines for {tag} ({text_src})")
        os.makedirs(f"{args.out}/synth-{tag}", exist_ok=True)
        for i in range(args.n_synth):
            voice = voices[i % len(voices)]
            text = rnd.choice(lines)
            if len(text) < 50 and rnd.random() < 0.5:
                text = text + " " + rnd.choice(lines)
            var = rnd.choice(variants)
            spd = rnd.randint(120, 210)
            pitch = rnd.randint(20, 80)
            dst = f"{args.out}/synth-{tag}/{i:04d}.wav"
            synth_jobs.append((f"{voice}+{var}", spd, pitch, text, dst))
            # One synthetic "speaker" per voice+variant; dev split by the utterance hash like the real ones.
            rows.append((dst, tag, f"espeak-{voice}", split_of(dst, "train"), "synth"))
        print(f"synth {tag}: {args.n_synth} utterances from {len(lines)} lines", flush=True)

    def convert(job):
        src, dst = job
        if not os.path.exists(dst):
            to_wav8k(src, dst)

    def shift(job):
        if not os.path.exists(job[1]):
            pseudo_speaker(*job)

    def speak(job):
        voice, spd, pitch, text, dst = job
        if os.path.exists(dst):
            return
        # Text on stdin: a line may start with "-".
        wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(spd), "-p", str(pitch), "--stdout", "--stdin"],
                             input=text.encode(), check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
        if len(wav) > 2000:  # a line espeak-ng says nothing for is left out of the index
            write_wav8k(wav, dst)

    with ThreadPoolExecutor(args.jobs) as ex:
        list(ex.map(convert, jobs))
        print("real recordings converted", flush=True)
        list(ex.map(shift, pseudo_jobs))
        print(f"{len(pseudo_jobs)} pseudo-speaker recordings rendered", flush=True)
        list(ex.map(speak, synth_jobs))
        print("synthetic voices rendered", flush=True)

    with open(f"{args.out}/index.tsv", "w") as f:
        f.write("path\ttags\tspeaker\tsplit\tkind\n")
        for r in rows:
            if os.path.exists(r[0]):
                f.write("\t".join(r) + "\n")
    # What each espeak-ng voice said, for targets that need the words (phones.py).
    with open(f"{args.out}/synth_text.tsv", "w") as f:
        f.write("path\tvoice\ttext\n")
        for voice, _, _, text, dst in synth_jobs:
            if os.path.exists(dst):
                f.write(f"{dst}\t{voice.split('+')[0]}\t{text}\n")
    print(f"{len(rows)} rows -> {args.out}/index.tsv")


if __name__ == "__main__":
    main()
