"""Log-mel filterbank features matching sherpa-onnx / kaldi-native-fbank for
NeMo CTC models (offline-recognizer-ctc-impl.h sets, for nemo_ctc models:
low_freq=0, high_freq=0 (=Nyquist), is_librosa=true, remove_dc_offset=false,
window_type="hann"; the remaining options are FeatureExtractorConfig defaults:
dither=0, snip_edges=false, frame 25 ms / shift 10 ms, preemph 0.97,
round_to_power_of_two=true, normalize_samples=true; knf MelBanksOptions
defaults for is_librosa: norm="slaney", use_slaney_mel_scale=true,
floor_to_int_bin=false; log floor = FLT_EPSILON).

At 8 kHz:
  samples   x[n] = int16 / 32768
  frames    F = (N + 40) // 80; frame f covers samples 80*f - 60 ... 80*f + 139,
            out-of-range indices reflected: i<0 -> -i-1, i>=N -> 2N-1-i
  per frame (200 samples): no dither, no DC removal, pre-emphasis
            y[i] = x[i] - 0.97*x[i-1] (i>=1), y[0] = x[0] - 0.97*x[0]
  window    periodic Hann w[i] = 0.5 - 0.5*cos(2*pi*i/200), i=0..199
  FFT       zero-pad to 256, power spectrum |X[k]|^2, k = 0..128
  mel       80 triangular filters, Slaney mel scale (linear below 1 kHz:
            mel = 3*f/200; above: 15 + 27*ln(f/1000)/ln(6.4)), 0..4000 Hz,
            82 equally spaced mel points m_j = j*mel(4000)/81; filter b uses
            (m_b, m_{b+1}, m_{b+2}) -> Hz (l, c, r); weight for FFT bin k with
            f_k = k*31.25 Hz, strictly l < f_k < r: (f_k-l)/(c-l) if f_k <= c
            else (r-f_k)/(r-c); times Slaney norm 2/(r-l).
  log       natural log(max(E, 1.1920928955078125e-07))
Result: [F, 80] float32, not normalised (the ONNX graph normalises).
"""
import math
import numpy as np
import torch

SR = 8000
FRAME_LEN = 200
FRAME_SHIFT = 80
NFFT = 256
NMEL = 80
PREEMPH = 0.97
LOG_FLOOR = float(np.finfo(np.float32).eps)  # 1.1920929e-07


def mel_slaney(f):
    return f * 3 / 200.0 if f <= 1000 else 15 + 14.545078505785561 * math.log(f / 1000)


def inv_mel_slaney(m):
    return 200.0 / 3 * m if m <= 15 else 1000 * math.exp((m - 15) * 0.06875177742094911)


def mel_matrix(dtype=np.float32):
    """[NFFT//2+1, NMEL] filterbank, computed like knf InitLibrosaMelBanks (float32 math)."""
    f32 = np.float32
    nyq = f32(SR / 2)
    mlow, mhigh = f32(mel_slaney(0.0)), f32(mel_slaney(float(nyq)))
    delta = f32((mhigh - mlow) / f32(NMEL + 1))
    binw = f32(SR / NFFT)
    W = np.zeros((NFFT // 2 + 1, NMEL), dtype=np.float64)
    for b in range(NMEL):
        l = f32(inv_mel_slaney(float(f32(mlow + f32(b) * delta))))
        c = f32(inv_mel_slaney(float(f32(mlow + f32(b + 1) * delta))))
        r = f32(inv_mel_slaney(float(f32(mlow + f32(b + 2) * delta))))
        for k in range(NFFT // 2 + 1):
            hz = f32(binw * f32(k))
            if l < hz < r:
                w = (hz - l) / (c - l) if hz <= c else (r - hz) / (r - c)
                w = f32(w) * f32(2 / (r - l))
                W[k, b] = w
    return W.astype(dtype)


def hann_window():
    i = np.arange(FRAME_LEN, dtype=np.float64)
    return (0.5 - 0.5 * np.cos(2 * math.pi / FRAME_LEN * i)).astype(np.float32)


def num_frames(n):
    return (n + FRAME_SHIFT // 2) // FRAME_SHIFT


def frame_indices(n):
    F = num_frames(n)
    start = np.arange(F)[:, None] * FRAME_SHIFT + FRAME_SHIFT // 2 - FRAME_LEN // 2
    idx = start + np.arange(FRAME_LEN)[None, :]
    for _ in range(3):
        idx = np.where(idx < 0, -idx - 1, idx)
        idx = np.where(idx >= n, 2 * n - 1 - idx, idx)
    return idx


def fbank_np(samples):
    """Reference implementation (float64 internally). samples: float in [-1, 1]. Returns [F, 80] float32."""
    x = np.asarray(samples, dtype=np.float64)
    fr = x[frame_indices(len(x))]
    pre = fr.copy()
    pre[:, 1:] = fr[:, 1:] - PREEMPH * fr[:, :-1]
    pre[:, 0] = fr[:, 0] - PREEMPH * fr[:, 0]
    pre *= hann_window().astype(np.float64)[None, :]
    spec = np.fft.rfft(pre, n=NFFT, axis=1)
    power = spec.real ** 2 + spec.imag ** 2
    mel = power @ mel_matrix(np.float64)
    return np.log(np.maximum(mel, LOG_FLOOR)).astype(np.float32)


class TorchFbank(torch.nn.Module):
    """Batched torch version of fbank_np (for training). waves [B, S] float, lens [B] samples."""

    def __init__(self):
        super().__init__()
        self.register_buffer("win", torch.from_numpy(hann_window()))
        self.register_buffer("mel", torch.from_numpy(mel_matrix()))

    def forward(self, waves, lens):
        B, S = waves.shape
        lens = [int(v) for v in lens]
        F = torch.tensor([(n + FRAME_SHIFT // 2) // FRAME_SHIFT for n in lens])
        Fmax = int(F.max())
        left = FRAME_LEN // 2 - FRAME_SHIFT // 2  # 60 samples before sample 0
        total = (Fmax - 1) * FRAME_SHIFT + FRAME_LEN
        P = torch.zeros(B, total, dtype=waves.dtype, device=waves.device)
        for b, n in enumerate(lens):
            w = waves[b, :n]
            Fb = int(F[b])
            need = (Fb - 1) * FRAME_SHIFT + FRAME_LEN  # samples covered by this utterance's frames
            right = max(0, need - left - n)
            parts = [w[:left].flip(0), w, w.flip(0)[:right]]
            seg = torch.cat(parts)[:need]
            P[b, :seg.shape[0]] = seg
        fr = P.unfold(1, FRAME_LEN, FRAME_SHIFT)[:, :Fmax]
        pre = torch.cat([fr[:, :, :1] * (1 - PREEMPH), fr[:, :, 1:] - PREEMPH * fr[:, :, :-1]], dim=2)
        pre = pre * self.win
        spec = torch.fft.rfft(pre, n=NFFT, dim=2)
        power = spec.real ** 2 + spec.imag ** 2
        mel = power @ self.mel
        feats = torch.log(torch.clamp(mel, min=LOG_FLOOR))
        return feats, F  # [B, Fmax, 80], [B]


def read_wav_float(path):
    import wave
    with wave.open(path, "rb") as w:
        assert w.getframerate() == SR and w.getsampwidth() == 2 and w.getnchannels() == 1, path
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return x.astype(np.float32) / 32768.0


if __name__ == "__main__":
    import sys
    x = read_wav_float(sys.argv[1])
    a = fbank_np(x)
    t = TorchFbank()
    b, F = t(torch.from_numpy(x)[None], torch.tensor([len(x)]))
    print(a.shape, float(np.abs(a - b[0].numpy()).max()), a.min(), a.max())
