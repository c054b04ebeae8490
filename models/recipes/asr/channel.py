"""On-the-fly telephone channel simulation (8 kHz) for training, in torch.

Per utterance, randomly: speed 0.8-1.2 (resampling, pitch shifts with it),
300-3400 Hz band-pass (random edges), additive noise at 5-20 dB SNR
(white / pink / brown / babble / mains hum / hold music from asterisk-moh-opsound-wav), room reverberation
(synthetic exponentially decaying impulse responses), random gain, and a G.711 mu-law or A-law round trip
(8-bit companding quantisation). Other codecs are applied at rendering time (codec.py).
"""
import glob
import math
import random
import wave
import numpy as np
import torch

MOH_DIR = "/usr/share/asterisk/moh"
_moh = None


def hold_music():
    """The 8 kHz hold-music recordings as float tensors (loaded once per process; empty when not installed)."""
    global _moh
    if _moh is None:
        _moh = []
        for p in sorted(glob.glob(MOH_DIR + "/*.wav")):
            with wave.open(p, "rb") as w:
                if w.getframerate() != 8000 or w.getsampwidth() != 2:
                    continue
                x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, w.getnchannels())[:, 0]
            _moh.append(torch.from_numpy(x.astype(np.float32) / 32768.0))
    return _moh


def reverb(x, r: random.Random, sr=8000):
    """Convolve with a synthetic room impulse response: direct path, then noise decaying to -60 dB in RT60."""
    rt60 = r.uniform(0.15, 0.8)
    n = int(rt60 * sr)
    t = torch.arange(n) / sr
    h = torch.randn(n) * torch.exp(-6.9 * t / rt60)
    h[0] = 0.0
    h = h / h.norm() * r.uniform(0.3, 1.0)
    h[0] = 1.0
    L = x.shape[0] + n
    y = torch.fft.irfft(torch.fft.rfft(x, n=L) * torch.fft.rfft(h, n=L), n=L)[:x.shape[0]]
    return y


def speed(x, factor):
    n = x.shape[0]
    m = max(16, int(round(n / factor)))
    return torch.nn.functional.interpolate(x[None, None], size=m, mode="linear", align_corners=False)[0, 0]


def bandpass(x, lo, hi, sr=8000):
    n = x.shape[0]
    X = torch.fft.rfft(x)
    f = torch.linspace(0, sr / 2, X.shape[0])
    # smooth 4th-order-ish Butterworth magnitude responses
    hp = 1 / torch.sqrt(1 + (lo / f.clamp(min=1.0)) ** 8)
    lp = 1 / torch.sqrt(1 + (f / hi) ** 16)
    return torch.fft.irfft(X * hp * lp, n=n)


def colored_noise(n, kind):
    w = torch.randn(n)
    if kind == "white":
        return w
    W = torch.fft.rfft(w)
    f = torch.arange(W.shape[0]).clamp(min=1).float()
    if kind == "pink":
        W = W / torch.sqrt(f)
    else:  # brown
        W = W / f
    return torch.fft.irfft(W, n=n)


def mulaw(x, mu=255.0):
    y = torch.sign(x) * torch.log1p(mu * x.abs()) / math.log1p(mu)
    y = torch.round(y * 127) / 127
    return torch.sign(y) * ((1 + mu) ** y.abs() - 1) / mu


def alaw(x, A=87.6):
    ax = x.abs()
    la = 1 + math.log(A)
    y = torch.where(ax < 1 / A, A * ax / la, (1 + torch.log((A * ax).clamp(min=1e-9))) / la)
    y = torch.round(y * 127) / 127
    d = torch.where(y < 1 / la, y * la / A, torch.exp(y * la - 1) / A)
    return torch.sign(x) * d


def telephone(x, r: random.Random, others=None, strong=True):
    """x: 1-D float tensor in [-1, 1] at 8 kHz. Returns augmented tensor."""
    if r.random() < (0.9 if strong else 0.6):
        x = speed(x, r.uniform(0.8, 1.2))
    if r.random() < 0.3:
        x = reverb(x, r)
    if r.random() < 0.8:
        x = bandpass(x, r.uniform(100, 500), r.uniform(2800, 3700))
    if r.random() < (0.8 if strong else 0.6):
        kind = r.choice(["white", "pink", "pink", "brown", "babble", "babble", "hum", "music", "music"])
        if kind == "music" and not hold_music():
            kind = "pink"
        n = x.shape[0]
        if kind == "babble" and others:
            nz = torch.zeros(n)
            for _ in range(r.randint(1, 3)):
                o = others[r.randrange(len(others))]
                if o.shape[0] < n:
                    o = o.repeat(n // max(1, o.shape[0]) + 1)
                s = r.randrange(0, o.shape[0] - n + 1)
                nz = nz + o[s:s + n]
        elif kind == "music":
            o = r.choice(hold_music())
            s = r.randrange(0, max(1, o.shape[0] - n))
            nz = o[s:s + n]
            if nz.shape[0] < n:
                nz = torch.cat([nz, torch.zeros(n - nz.shape[0])])
        elif kind == "hum":
            t = torch.arange(n) / 8000.0
            f0 = r.choice([50.0, 60.0])
            nz = sum(torch.sin(2 * math.pi * f0 * k * t + r.random() * 6.28) / k for k in (1, 2, 3, 5)) + 0.3 * torch.randn(n)
        else:
            nz = colored_noise(n, kind if kind != "babble" else "pink")
        snr = r.uniform(5, 20)
        ps = x.pow(2).mean().clamp(min=1e-8)
        pn = nz.pow(2).mean().clamp(min=1e-8)
        x = x + nz * torch.sqrt(ps / (pn * 10 ** (snr / 10)))
    peak = x.abs().max().clamp(min=1e-4)
    x = x / peak * r.uniform(0.05, 0.95)
    u = r.random()
    if u < 0.45:
        x = mulaw(x)
    elif u < 0.9:
        x = alaw(x)
    return x.clamp(-1, 1)
