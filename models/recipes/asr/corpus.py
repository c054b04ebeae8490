"""Build the training / held-out corpus for the telephony ASR recipe.

Writes under work/corpus/:
  real_train.npz     real Asterisk prompts used for training (8 kHz)
  heldout_real.npz   every fifth Asterisk prompt in name order (see heldout_real.txt)
  pseudo_real.npz    pseudo-speakers of the real training prompts (pitch / vocal tract shifts, codecs)
and under work/eval/:
  heldout_voices.npz whole voices held out of training (see HELDOUT_* below), never trained on
  voices_wav/, voices_transcripts.tsv   the same utterances as WAV files and their texts (eval_decoding.ts)
  synth_XXXX.npz     synthetic training shards (SHARD utterances each)
Each npz: audio (int16 concatenated, 8 kHz), offsets (int64, len+1), texts, voices.
Rendering is resumable: existing shards are skipped.
"""
import argparse, gzip, io, os, random, subprocess, sys, wave, json
import numpy as np
from multiprocessing import Pool

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from textnorm import normalize
from textgen import generate
import codec

SOUNDS = "/usr/share/asterisk/sounds/en"
TRANSCRIPTS = "/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz"
SR = 8000
SHARD = 500

ESPEAK_BASES = ["en-us", "en-gb", "en-us-nyc", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd"]
ESPEAK_TRAIN_VARIANTS = ["m1", "m2", "m3", "m4", "m6", "m7", "m8", "f1", "f2", "f4", "f5", "klatt", "klatt2", "klatt4",
                         "Alicia", "Andrea", "Annie", "aunty", "belinda", "linda", "steph", "steph2", "anika", "david",
                         "john", "max", "paul", "robert", "edward", "Gene", "quincy", "rob", "shelby", "travis", "victor",
                         "zac", "benjamin", "caleb", "grandma", "grandpa", "adam", "Andy", "Lee", "Mike", "norbert"]
# flite voices built from recordings, each also as pseudo-speakers (random f0 target and duration stretch)
FLITE_TRAIN = ["kal", "kal16", "awb", "rms"]
FLITE_F0 = {"kal": 105, "kal16": 105, "awb": 110, "rms": 100, "slt": 170}
FESTIVAL_TRAIN = ["kal_diphone"]
# share of flite training renderings raised towards a female voice (flite_raised)
FLITE_RAISED_FRAC = 0.35
# Whole voices held out of training (the held-out voice set, work/eval/heldout_voices.npz): the speaker slt (flite
# slt, festival cmu_us_slt_arctic_hts), festival's kdl (festvox-kdlpc16k: voice ked_diphone), and the espeak-ng
# accents below with every variant. No rendering of any of them is trained on.
HELDOUT_ESPEAK_BASES = ["en-029", "en-gb-scotland"]
HELDOUT_FLITE_VOICES = ["slt"]
HELDOUT_FESTIVAL_VOICES = ["cmu_us_slt_arctic_hts", "ked_diphone"]
# espeak-ng variants never trained on (on any base)
HELDOUT_ESPEAK_VARIANTS = ["f3", "m5"]
# fraction of rendered training utterances passed through a codec round trip (codec.py) at rendering time
CODEC_FRAC = 0.5
# pseudo-speakers of every real training prompt (codec.pseudo_speaker): copies per prompt
PSEUDO_REAL_COPIES = 6


def read_prompts():
    out = []
    with gzip.open(TRANSCRIPTS, "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith(";") or ": " not in line:
                continue
            name, text = line.split(": ", 1)
            name = name.strip()
            if text.strip().startswith("["):
                continue  # tones
            path = os.path.join(SOUNDS, name + ".wav")
            if not os.path.exists(path):
                continue
            norm = normalize(text)
            if not norm:
                continue
            out.append((name, norm, path))
    out.sort(key=lambda x: x[0])
    return out


def split_prompts():
    prompts = read_prompts()
    held = [p for i, p in enumerate(prompts) if i % 5 == 4]
    train = [p for i, p in enumerate(prompts) if i % 5 != 4]
    return train, held


def read_wav(path):
    with wave.open(path, "rb") as w:
        sr, ch, sw = w.getframerate(), w.getnchannels(), w.getsampwidth()
        data = w.readframes(w.getnframes())
    assert sw == 2, path
    x = np.frombuffer(data, dtype="<i2")
    if ch > 1:
        x = x.reshape(-1, ch)[:, 0]
    if sr != SR:
        x = resample_sox(x.tobytes(), sr)
    return x.copy()


def resample_sox(raw, sr):
    p = subprocess.run(["sox", "-t", "raw", "-r", str(sr), "-e", "signed", "-b", "16", "-c", "1", "-",
                        "-t", "raw", "-r", str(SR), "-e", "signed", "-b", "16", "-c", "1", "-"],
                       input=raw, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
    return np.frombuffer(p.stdout, dtype="<i2")


def wav_bytes_to_8k(b):
    with wave.open(io.BytesIO(b), "rb") as w:
        sr = w.getframerate()
        data = w.readframes(w.getnframes())
    x = np.frombuffer(data, dtype="<i2")
    if len(x) == 0:
        # espeak writes a streaming header with 0 frames when writing to stdout
        x = np.frombuffer(b[44:], dtype="<i2")
    return resample_sox(x.tobytes(), sr) if sr != SR else x


def render(job):
    """job = (engine, voice, text, seed[, codec]) -> int16 8 kHz array or None"""
    engine, voice, text, seed = job[:4]
    r = random.Random(seed)
    try:
        if engine == "espeak":
            speed = r.randint(125, 195)
            pitch = r.randint(25, 75)
            b = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60, check=True).stdout
            # espeak --stdout header has bogus sizes: parse sample rate then raw data
            sr = int.from_bytes(b[24:28], "little")
            x = np.frombuffer(b[44:44 + (len(b) - 44) // 2 * 2], dtype="<i2")
            x = resample_sox(x.tobytes(), sr)
        elif engine == "flite":
            tmp = f"/tmp/cs_flite_{os.getpid()}.wav"
            name, *setf = voice.split("|")
            extra = []
            if setf:
                extra = ["--setf", f"int_f0_target_mean={setf[0]}", "--setf", f"duration_stretch={setf[1]}"]
            subprocess.run(["flite", "-voice", name, "-t", text, "-o", tmp] + extra, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=60, check=True)
            with open(tmp, "rb") as f:
                x = wav_bytes_to_8k(f.read())
            if len(setf) > 2:
                x = codec.pseudo_speaker(x, int(setf[2]), 1.0)
        else:
            tmp = f"/tmp/cs_fest_{os.getpid()}.wav"
            subprocess.run(["text2wave", "-eval", f"(voice_{voice})", "-o", tmp], input=text.encode(),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=True)
            with open(tmp, "rb") as f:
                x = wav_bytes_to_8k(f.read())
        x = np.asarray(x, dtype=np.int16)
        if len(x) < SR * 0.3:
            return None
        # trim long leading/trailing silence (keep 0.15 s)
        a = np.abs(x.astype(np.int32))
        nz = np.nonzero(a > 200)[0]
        if len(nz):
            s, e = max(0, nz[0] - 1200), min(len(x), nz[-1] + 1200)
            x = x[s:e]
        if len(job) > 4 and job[4]:
            x = codec.roundtrip(x, job[4])
        return x.copy()
    except Exception:
        return None


def flite_pseudo(r, name):
    """A flite voice as a pseudo-speaker: f0 target 0.7-1.6 x the voice's own, duration stretch 0.8-1.25."""
    if r.random() < 0.25:
        return name
    return f"{name}|{int(FLITE_F0[name] * r.uniform(0.7, 1.6))}|{r.uniform(0.8, 1.25):.2f}"


def flite_raised(r, name):
    """A male flite voice raised towards a female one: f0 target 1.2-1.5 x the voice's own, duration stretch
    0.85-1.15, then pitch and formants shifted up together by 250-450 cents (sox; a shorter vocal tract)."""
    return (f"{name}|{int(FLITE_F0[name] * r.uniform(1.2, 1.5))}|{r.uniform(0.85, 1.15):.2f}"
            f"|{int(r.uniform(250, 450))}")


def pick_voice(r):
    u = r.random()
    if u < 0.55:
        return ("espeak", r.choice(ESPEAK_BASES) + "+" + r.choice(ESPEAK_TRAIN_VARIANTS))
    if u < 0.9:
        # every flite training voice is male; a third of their renderings are raised towards female ones
        name = r.choice(FLITE_TRAIN)
        return ("flite", flite_raised(r, name) if r.random() < FLITE_RAISED_FRAC else flite_pseudo(r, name))
    return ("festival", r.choice(FESTIVAL_TRAIN))


def pick_heldout_voice(r):
    """Held-out whole voices, about evenly: slt (flite, with pseudo-speakers, and festival HTS), kdl, two accents."""
    u = r.random()
    if u < 0.2:
        return ("flite", flite_pseudo(r, "slt"))
    if u < 0.4:
        return ("festival", "cmu_us_slt_arctic_hts")
    if u < 0.6:
        return ("festival", "ked_diphone")
    variants = ESPEAK_TRAIN_VARIANTS + HELDOUT_ESPEAK_VARIANTS
    return ("espeak", r.choice(HELDOUT_ESPEAK_BASES) + "+" + r.choice(variants))


def save(path, arrs, texts, voices):
    offs = np.zeros(len(arrs) + 1, dtype=np.int64)
    offs[1:] = np.cumsum([len(a) for a in arrs])
    audio = np.concatenate(arrs) if arrs else np.zeros(0, np.int16)
    tmp = path + ".tmp.npz"
    np.savez(tmp, audio=audio, offsets=offs, texts=np.array(texts), voices=np.array(voices))
    os.replace(tmp, path)


def write_wav(path, x):
    """One utterance (int16 samples) as an 8 kHz 16-bit mono WAV file."""
    with wave.open(path, "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(SR)
        w.writeframes(x.astype("<i2").tobytes())


def write_wavs(npz, wav_dir, transcripts):
    """The utterances of an npz as 8 kHz 16-bit WAV files (utt_0000.wav, ...) and a `name<TAB>text` list, the
    input eval_decoding.ts --wav-dir/--transcripts reads. Skipped when the list already exists."""
    if os.path.exists(transcripts):
        return
    os.makedirs(wav_dir, exist_ok=True)
    arrs, texts, _ = load(npz)
    lines = []
    for i, (x, t) in enumerate(zip(arrs, texts)):
        name = f"utt_{i:04d}"
        write_wav(os.path.join(wav_dir, name + ".wav"), x)
        lines.append(f"{name}\t{t}\n")
    with open(transcripts + ".tmp", "w") as f:
        f.writelines(lines)
    os.replace(transcripts + ".tmp", transcripts)


def load(path):
    z = np.load(path)
    offs = z["offsets"]
    audio = z["audio"]
    return [audio[offs[i]:offs[i + 1]] for i in range(len(offs) - 1)], list(z["texts"]), list(z["voices"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "work", "corpus"))
    ap.add_argument("--n-synth", type=int, default=16000, help="synthetic training utterances")
    ap.add_argument("--n-text", type=int, default=40000, help="size of generated text pool")
    ap.add_argument("--n-heldout-voices", type=int, default=250)
    ap.add_argument("--eval-out", default=os.path.join(HERE, "work", "eval"))
    ap.add_argument("--only", default="", choices=["", "pseudo-real", "heldout-voices", "synth"],
                    help="one part only (real prompts are always written)")
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    train, held = split_prompts()
    # committed held-out list must agree with the computed split
    listed = os.path.join(HERE, "heldout_real.txt")
    names = [p[0] for p in held]
    if os.path.exists(listed):
        want = [l.strip() for l in open(listed) if l.strip() and not l.startswith("#")]
        if want != names:
            sys.exit("heldout_real.txt does not match the computed split; refusing to continue")
    print(f"real prompts: {len(train)} train, {len(held)} held out", flush=True)
    for fname, plist in (("real_train.npz", train), ("heldout_real.npz", held)):
        path = os.path.join(a.out, fname)
        if not os.path.exists(path):
            save(path, [read_wav(p[2]) for p in plist], [p[1] for p in plist], [p[0] for p in plist])
    held_texts = set(p[1] for p in held)
    pool_texts = [t for t in generate(a.n_text, seed=1) if t not in held_texts]
    # held-out voice texts: a disjoint generated set
    pool_set = set(pool_texts)
    hv_texts = [t for t in generate(a.n_heldout_voices * 3, seed=777) if t not in pool_set and t not in held_texts][:a.n_heldout_voices]
    if a.only in ("", "pseudo-real"):
        path = os.path.join(a.out, "pseudo_real.npz")
        if not os.path.exists(path):
            r = random.Random(31)
            arrs, texts, voices = [], [], []
            for name, text, wav in train:
                x = read_wav(wav)
                for k in range(PSEUDO_REAL_COPIES):
                    # the real speaker is female: shifts mostly downwards (towards male vocal tracts), some upwards
                    cents = r.choice([r.uniform(-700, -150), r.uniform(-700, -150), r.uniform(150, 400)])
                    y = codec.pseudo_speaker(x, cents, r.uniform(0.85, 1.15))
                    c = codec.pick(r) if r.random() < CODEC_FRAC else ""
                    if c:
                        y = codec.roundtrip(y, c)
                    arrs.append(y); texts.append(text); voices.append(f"{name}|{int(cents)}|{c}")
            save(path, arrs, texts, voices)
            print(f"pseudo_real: {len(arrs)} utts, {sum(len(x) for x in arrs) / SR / 60:.1f} min", flush=True)
    with Pool(a.jobs) as pool:
        if a.only in ("", "heldout-voices"):
            path = os.path.join(a.eval_out, "heldout_voices.npz")
            os.makedirs(a.eval_out, exist_ok=True)
            if not os.path.exists(path):
                r = random.Random(99)
                jobs = [pick_heldout_voice(r) + (t, 10_000_000 + i) for i, t in enumerate(hv_texts)]
                res = pool.map(render, jobs, chunksize=4)
                arrs, texts, voices = [], [], []
                for x, j in zip(res, jobs):
                    if x is None:
                        continue
                    v = j[0] + ":" + j[1]
                    # pseudo-speakers of the held-out voices: a third shifted in pitch and vocal tract by sox
                    if j[0] != "flite" and r.random() < 0.33:
                        cents = r.choice([r.uniform(-500, -150), r.uniform(150, 500)])
                        x = codec.pseudo_speaker(x, cents, r.uniform(0.9, 1.1))
                        v += f"|{int(cents)}"
                    arrs.append(x); texts.append(j[2]); voices.append(v)
                save(path, arrs, texts, voices)
                with open(os.path.join(a.eval_out, "heldout_voices.txt"), "w") as f:
                    for v, t in zip(voices, texts):
                        f.write(f"{v}\t{t}\n")
                print(f"heldout_voices: {len(arrs)} utts, {sum(len(x) for x in arrs) / SR / 60:.1f} min", flush=True)
            write_wavs(path, os.path.join(a.eval_out, "voices_wav"), os.path.join(a.eval_out, "voices_transcripts.tsv"))
        if a.only not in ("", "synth"):
            return
        # synthetic training texts: generated pool + training prompt transcripts (x3 voices)
        r = random.Random(5)
        texts = list(pool_texts)
        r.shuffle(texts)
        prompt_texts = [p[1] for p in train] * 3
        # interleave prompt texts early so small corpora include them too
        texts = texts[:a.n_synth]
        step = max(1, len(texts) // max(1, len(prompt_texts)))
        for k, t in enumerate(prompt_texts):
            texts.insert(min(len(texts), k * (step + 1)), t)
        texts = texts[:a.n_synth + len(prompt_texts)]
        nshards = (len(texts) + SHARD - 1) // SHARD
        for s in range(nshards):
            path = os.path.join(a.out, f"synth_{s:04d}.npz")
            if os.path.exists(path):
                continue
            rr = random.Random(1000 + s)
            chunk = texts[s * SHARD:(s + 1) * SHARD]
            jobs = [pick_voice(rr) + (t, s * SHARD + i, codec.pick(rr) if rr.random() < CODEC_FRAC else "")
                    for i, t in enumerate(chunk)]
            res = pool.map(render, jobs, chunksize=8)
            keep = [(x, j) for x, j in zip(res, jobs) if x is not None]
            save(path, [k[0] for k in keep], [k[1][2] for k in keep], [k[1][0] + ":" + k[1][1] + ("|" + k[1][4] if k[1][4] else "") for k in keep])
            secs = sum(len(k[0]) for k in keep) / SR
            print(f"shard {s + 1}/{nshards}: {len(keep)} utts, {secs / 60:.1f} min audio", flush=True)
    print("corpus done", flush=True)


if __name__ == "__main__":
    main()
