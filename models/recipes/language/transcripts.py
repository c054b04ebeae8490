"""What each training recording of the language-ID corpus says, and in which espeak-ng voice to phonemise it.

Sources, all shipped by Debian with the recordings:
  * Asterisk prompts: `core-sounds-<lang>.txt.gz` in `asterisk-core-sounds-<lang>` ("name: text" lines; see
    asterisk_text_gz for es and fr);
  * festvox-ru: `etc/txt.done.data` (`+` marks stress there, and is dropped);
  * fillets-ng dialogue: `script/<level>/dialogs_<lang>.lua`, the `dialogStr` after the recording's `dialogId`;
  * Tux Paint: each stamp's `.txt`, the `<lang>.utf8=` line (the recording reads the description);
  * espeak-ng voices: `work/corpus/synth_text.tsv`, written by corpus.py.
Pseudo-speakers say what their real speaker says. The held-out speakers are never looked up.

    read_transcripts(corpus_dir) -> {corpus wav path: (text, espeak-ng voice)}
"""
import glob
import gzip
import io
import os
import re
import subprocess
import tarfile

from corpus import FESTVOX_RU, FILLETS, REAL, corpus_path

HERE = os.path.dirname(os.path.abspath(__file__))

# espeak-ng voice for each real training speaker's language (fr-CA read as French of France: espeak-ng has no
# Canadian French).
VOICE = {
    "ast-en-allison": "en-us", "ast-es-allison": "es-419", "ast-fr-june": "fr-fr", "ast-it-carlo": "it",
    "ast-ru-ivrvoice": "ru", "festvox-ru-nsh": "ru", "fillets-nl": "nl", "fillets-cs": "cs",
    "tuxpaint-es": "es", "tuxpaint-fr": "fr-fr", "tuxpaint-ru": "ru", "tuxpaint-nl": "nl", "tuxpaint-en": "en-us",
}


def asterisk_text_gz(lang):
    """core-sounds-<lang>.txt.gz as bytes. asterisk-core-sounds-es and -fr cannot be installed beside the held-out
    speakers' packages (they conflict over asterisk-prompt-<lang>), so where the file is not installed it is read
    from the package itself, fetched with `apt-get download` into work/debs."""
    member = f"usr/share/doc/asterisk-core-sounds-{lang}/core-sounds-{lang}.txt.gz"
    if os.path.exists("/" + member):
        return open("/" + member, "rb").read()
    debs = os.path.join(HERE, "work", "debs")
    os.makedirs(debs, exist_ok=True)
    found = glob.glob(f"{debs}/asterisk-core-sounds-{lang}_*.deb")
    if not found:
        subprocess.run(["apt-get", "download", f"asterisk-core-sounds-{lang}"], cwd=debs, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        found = glob.glob(f"{debs}/asterisk-core-sounds-{lang}_*.deb")
    tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", found[0]], check=True, stdout=subprocess.PIPE).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        return t.extractfile("./" + member).read()


def asterisk_text(lang):
    out = {}
    text = gzip.decompress(asterisk_text_gz(lang)).decode("utf-8-sig", errors="replace")
    for line in text.splitlines():
        if line.startswith(";") or ":" not in line:
            continue
        name, text = line.split(":", 1)
        text = re.sub(r"\[[^\]]*\]", " ", text).strip()  # bracketed notes are not spoken
        if text:
            out[name.strip()] = text
    return out


def festvox_text():
    out = {}
    for line in open(os.path.join(os.path.dirname(FESTVOX_RU), "etc", "txt.done.data"), encoding="utf-8"):
        m = re.match(r'\(\s*(\S+)\s+"(.*)"\s*\)', line.strip())
        if m:
            out[m.group(1)] = m.group(2).replace("+", "")
    return out


def fillets_dialogue(lang):
    out = {}
    for f in glob.glob(f"{FILLETS}/script/*/dialogs_{lang}.lua"):
        src = open(f, encoding="utf-8", errors="replace").read()
        for did, text in re.findall(r'dialogId\("([^"]+)"[^\n]*\)\s*\ndialogStr\("((?:[^"\\]|\\.)*)"\)', src):
            out[did] = text.replace("\\n", " ").replace("\\", "")
    return out


def tuxpaint_text(ogg, lang):
    txt = re.sub(r"_desc(_[a-z]+)?\.ogg$", ".txt", ogg)
    if not os.path.exists(txt):
        return None
    lines = open(txt, encoding="utf-8", errors="replace").read().splitlines()
    if lang == "en":
        return lines[0].strip() if lines else None
    for line in lines:
        if line.startswith(f"{lang}.utf8="):
            return line.split("=", 1)[1].strip()
    return None


def read_transcripts(corpus_dir):
    out = {}
    cache = {}
    for sid, pattern, _, base, *every in REAL:
        if base != "train":
            continue
        voice = VOICE[sid]
        files = sorted(glob.glob(pattern, recursive=True))[:: every[0] if every else 1]
        for f in files:
            stem = os.path.splitext(os.path.basename(f))[0]
            if sid.startswith("ast-"):
                lang = sid.split("-")[1]
                text = cache.setdefault(sid, asterisk_text(lang)).get(stem)
            elif sid.startswith("festvox-"):
                text = cache.setdefault(sid, festvox_text()).get(stem)
            elif sid.startswith("fillets-"):
                text = cache.setdefault(sid, fillets_dialogue(sid.split("-")[1])).get(stem)
            else:
                text = tuxpaint_text(f, sid.split("-")[1])
            if not text:
                continue
            text = " ".join(text.split())
            dst = corpus_path(corpus_dir, sid, pattern, f)
            out[dst] = (text, voice)
            for pdir in glob.glob(f"{corpus_dir}/{sid}-p*"):
                out[os.path.join(pdir, os.path.basename(dst))] = (text, voice)
    synth = os.path.join(corpus_dir, "synth_text.tsv")
    if os.path.exists(synth):
        for line in list(open(synth, encoding="utf-8"))[1:]:
            path, voice, text = line.rstrip("\n").split("\t")
            out[path] = (text, voice)
    return out


if __name__ == "__main__":
    import collections
    t = read_transcripts(os.path.join(HERE, "work", "corpus"))
    by = collections.Counter(p.split("/")[-2] for p in t)
    for k, n in sorted(by.items()):
        print(k, n)
