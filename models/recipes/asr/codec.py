"""Telephone codec round trips through Debian's ffmpeg (rendering time, not on the fly: two processes per call).

Every codec a hotline leg can have passed through on its way to us: G.711 is applied on the fly by channel.py;
here GSM 06.10, G.726 (16-40 kbit/s), G.722 (via 16 kHz), G.723.1, Opus and Speex at narrowband rates, and
codec2 rarely (a worst case)."""
import random
import subprocess
import numpy as np

SR = 8000

# (name, encode args, decode args, input rate); weights below
CODECS = {
    "gsm": (["-c:a", "libgsm", "-f", "gsm"], ["-f", "gsm"], 8000),
    "g726_16": (["-c:a", "g726", "-b:a", "16k", "-f", "g726"], ["-f", "g726", "-code_size", "2", "-ar", "8000"], 8000),
    "g726_24": (["-c:a", "g726", "-b:a", "24k", "-f", "g726"], ["-f", "g726", "-code_size", "3", "-ar", "8000"], 8000),
    "g726_32": (["-c:a", "g726", "-b:a", "32k", "-f", "g726"], ["-f", "g726", "-code_size", "4", "-ar", "8000"], 8000),
    "g722": (["-c:a", "g722", "-f", "g722"], ["-f", "g722"], 16000),
    "g723_1": (["-c:a", "g723_1", "-b:a", "6.3k", "-f", "g723_1"], ["-f", "g723_1"], 8000),
    "opus_8": (["-c:a", "libopus", "-b:a", "8k", "-f", "ogg"], ["-f", "ogg"], 8000),
    "opus_16": (["-c:a", "libopus", "-b:a", "16k", "-f", "ogg"], ["-f", "ogg"], 8000),
    "speex": (["-c:a", "libspeex", "-f", "ogg"], ["-f", "ogg"], 8000),
    "codec2": (["-c:a", "libcodec2", "-mode", "3200", "-f", "codec2"], ["-f", "codec2"], 8000),
}
WEIGHTS = {"gsm": 3, "g726_16": 1, "g726_24": 1, "g726_32": 1, "g722": 2, "g723_1": 2, "opus_8": 2, "opus_16": 2,
           "speex": 2, "codec2": 0.5}


def pick(r: random.Random):
    names = list(WEIGHTS)
    return r.choices(names, weights=[WEIGHTS[n] for n in names])[0]


def roundtrip(x, name):
    """x: int16 array at 8 kHz -> int16 array at 8 kHz, same length (padded/cut), after encode + decode."""
    enc, dec, rate = CODECS[name]
    e = subprocess.run(["ffmpeg", "-v", "error", "-f", "s16le", "-ar", str(SR), "-ac", "1", "-i", "-",
                        "-ar", str(rate)] + enc + ["-"], input=np.asarray(x, "<i2").tobytes(),
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60, check=True).stdout
    d = subprocess.run(["ffmpeg", "-v", "error"] + dec + ["-i", "-", "-f", "s16le", "-ar", str(SR), "-ac", "1", "-"],
                       input=e, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60, check=True).stdout
    y = np.frombuffer(d, dtype="<i2")
    if len(y) < len(x):
        y = np.concatenate([y, np.zeros(len(x) - len(y), np.int16)])
    return y[:len(x)].copy()


def pseudo_speaker(x, cents, tempo):
    """Pseudo-speaker of a recording (sox): pitch and formants shifted together by `cents` (a resampling-based
    vocal-tract and pitch change), duration scaled by 1/tempo."""
    p = subprocess.run(["sox", "-t", "raw", "-r", str(SR), "-e", "signed", "-b", "16", "-c", "1", "-",
                        "-t", "raw", "-r", str(SR), "-e", "signed", "-b", "16", "-c", "1", "-",
                        "pitch", str(int(cents)), "tempo", "-s", f"{tempo:.3f}"],
                       input=np.asarray(x, "<i2").tobytes(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       timeout=60, check=True)
    return np.frombuffer(p.stdout, dtype="<i2").copy()
