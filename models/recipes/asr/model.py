"""Small QuartzNet-style CTC model (depthwise-separable 1-D convolutions).

Streaming/batching contract:
 * first op: global mean/std normalisation (constants from training features)
 * after every conv block activations are multiplied by the time mask derived
   from `length`, so padded frames are exactly zero at every layer and a
   sequence's output in a padded batch equals its output alone.
 * one stride-2 conv at the start: output length = length // 2 (the value
   sherpa-onnx assumes: features_length / subsampling_factor).
 * symmetric "same" padding, finite receptive field (see receptive_field()); or, with causal=True, every conv
   padded on the left only, so a chunk's output depends on no later audio and the model streams with
   per-layer caches (see StreamingCtc).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB = ["\u2581", "'"] + [chr(c) for c in range(ord("a"), ord("z") + 1)] + ["<blk>"]
BLANK = len(VOCAB) - 1
CHAR2ID = {(" " if t == "\u2581" else t): i for i, t in enumerate(VOCAB) if t != "<blk>"}


def encode(text):
    return [CHAR2ID[c] for c in text if c in CHAR2ID]


def ctc_collapse(ids, blank=BLANK):
    """Frame-wise best ids -> tokens: repeats merged, blanks dropped."""
    out, prev = [], -1
    for i in ids:
        if i != prev and i != blank:
            out.append(i)
        prev = i
    return out


def decode_greedy(ids):
    return "".join(" " if i == 0 else VOCAB[i] for i in ctc_collapse(ids)).strip()


class SepConv(nn.Module):
    """Depthwise + pointwise conv + BN. causal: all padding on the left (a strided conv keeps the last frame of
    its stride group: output j of a stride-2 conv sees input frames 2j+1-(k-1) .. 2j+1)."""

    def __init__(self, cin, cout, k, stride=1, dilation=1, causal=False):
        super().__init__()
        self.causal = causal
        self.left = dilation * (k - 1) - (stride - 1) if causal else 0
        pad = 0 if causal else dilation * (k - 1) // 2
        self.dw = nn.Conv1d(cin, cin, k, stride=stride, padding=pad, dilation=dilation, groups=cin, bias=False)
        self.pw = nn.Conv1d(cin, cout, 1, bias=False)
        self.bn = nn.BatchNorm1d(cout)

    def forward(self, x):
        if self.causal:
            x = F.pad(x, (self.left, 0))
        return self.bn(self.pw(self.dw(x)))


class Block(nn.Module):
    def __init__(self, c, k, repeat, dropout, causal=False, dilation=1):
        super().__init__()
        self.subs = nn.ModuleList([SepConv(c, c, k, dilation=dilation, causal=causal) for _ in range(repeat)])
        self.res = nn.Sequential(nn.Conv1d(c, c, 1, bias=False), nn.BatchNorm1d(c))
        self.drop = nn.Dropout(dropout)

    def forward(self, x, mask):
        y = x
        for i, s in enumerate(self.subs):
            y = s(y)
            if i < len(self.subs) - 1:
                y = self.drop(torch.relu(y)) * mask
        y = self.drop(torch.relu(y + self.res(x))) * mask
        return y


class CtcModel(nn.Module):
    def __init__(self, nmel=80, c=192, blocks=(11, 13, 15, 17, 19), repeat=2, c_end=256, k1=11, k_end=21, dropout=0.0,
                 causal=False, dilations=None):
        super().__init__()
        dilations = list(dilations) if dilations else [1] * len(blocks)
        self.cfg = dict(nmel=nmel, c=c, blocks=list(blocks), repeat=repeat, c_end=c_end, k1=k1, k_end=k_end, dropout=dropout,
                        causal=causal, dilations=dilations)
        self.dilations = dilations
        self.causal = causal
        self.register_buffer("feat_mean", torch.zeros(nmel))
        self.register_buffer("feat_std", torch.ones(nmel))
        self.k1, self.blocks_k, self.repeat, self.k_end = k1, list(blocks), repeat, k_end
        self.c1 = SepConv(nmel, c, k1, stride=2, causal=causal)
        self.blocks = nn.ModuleList([Block(c, k, repeat, dropout, causal=causal, dilation=d)
                                     for k, d in zip(blocks, dilations)])
        self.c2 = SepConv(c, c_end, k_end, causal=causal)
        self.c3 = nn.Sequential(nn.Conv1d(c_end, c_end, 1, bias=False), nn.BatchNorm1d(c_end))
        self.out = nn.Conv1d(c_end, len(VOCAB), 1, bias=True)
        self.drop = nn.Dropout(dropout)

    def receptive_field(self):
        """(left, right) receptive field in input feature frames: output frame j depends on input frames
        2j - left .. 2j + right."""
        if self.causal:
            out = sum(self.repeat * d * (k - 1) for k, d in zip(self.blocks_k, self.dilations)) + (self.k_end - 1)
            return (self.k1 - 2) + 2 * out, 1
        half_out = sum(self.repeat * d * (k - 1) // 2 for k, d in zip(self.blocks_k, self.dilations)) + (self.k_end - 1) // 2
        rf = (self.k1 - 1) // 2 + 2 * half_out
        return rf, rf

    def stream_layers(self):
        """The depthwise convs after c1 in order, each needing a cache of dilation * (k - 1) input frames."""
        convs = [s.dw for b in self.blocks for s in b.subs] + [self.c2.dw]
        return convs

    @staticmethod
    def time_mask(length, T):
        return (torch.arange(T, device=length.device)[None, :] < length[:, None]).to(torch.float32)[:, None, :]

    def encoder_taps(self, audio_signal, length, normalize=True):
        """Yields (tap, activations [N, C, T'], out_len) after each residual block ("b0", "b1", ...) and after the
        last two convolutions ("c2", "c3"); audio_signal [N, 80, T] raw log-mel, length [N] int64. A caller that
        needs only an early tap stops iterating there, and nothing after it is computed."""
        x = audio_signal
        T = x.shape[2]
        if normalize:
            x = (x - self.feat_mean[None, :, None]) / self.feat_std[None, :, None]
        x = x * self.time_mask(length, T)
        out_len = torch.div(length, 2, rounding_mode="floor")
        x = self.c1(x)
        m = self.time_mask(out_len, x.shape[2])
        x = self.drop(torch.relu(x)) * m
        for i, b in enumerate(self.blocks):
            x = b(x, m)
            yield f"b{i}", x, out_len
        x = self.drop(torch.relu(self.c2(x))) * m
        yield "c2", x, out_len
        x = self.drop(torch.relu(self.c3(x))) * m
        yield "c3", x, out_len

    def forward(self, audio_signal, length, normalize=True):
        """audio_signal [N, 80, T] raw log-mel; length [N] int64. -> logprobs [N, T', V], out_len [N]"""
        *_, (_, x, out_len) = self.encoder_taps(audio_signal, length, normalize)
        x = self.out(x)
        return torch.log_softmax(x, dim=1).transpose(1, 2), out_len


def _fold(pw, bn):
    """pointwise conv + eval BatchNorm -> (weight [Cin, Cout], bias [Cout]) for x @ weight + bias."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    w = pw.weight[:, :, 0] * scale[:, None]
    b = bn.bias - bn.running_mean * scale
    if pw.bias is not None:
        b = b + pw.bias * scale
    return w.t().contiguous().detach(), b.detach()


class StreamingCtc(nn.Module):
    """Cache-aware streaming form of a causal CtcModel, in the sherpa-onnx online NeMo CTC layout.

    Inputs: audio_signal [N, 80, T] raw log-mel of T new frames (T even), length [N],
    cache_last_channel [N, 1, k1-2, 80] (c1's last normalised input frames),
    cache_last_time [N, 1, K, C] (the last dilation*(k-1) input frames of each later depthwise conv, layer
    after layer along the time axis), cache_last_channel_len [N] (output frames so far, passed through + T/2).
    Outputs: logprobs [N, T/2, V], logprobs_length = length // 2, and the three next caches.
    Zero caches are the start of an utterance; window after window, the output equals the whole-utterance pass.

    Computed time-major ([N*T, C]) with batch normalisation folded into the pointwise weights, so every
    pointwise conv is one matrix product (Gemm) over all frames of the batch, and every depthwise conv is a
    gather of its k taps, a multiply and a sum: small windows of many streams batch into large products.
    """

    def __init__(self, m):
        super().__init__()
        assert m.causal
        self.m = m
        self.c1_ctx = m.c1.left
        # each later depthwise conv keeps the last dilation*(k-1) frames of its input; all of them lie side by
        # side on the time axis of one cache tensor
        self.reach = [conv.dilation[0] * (conv.kernel_size[0] - 1) for conv in m.stream_layers()]
        self.offsets = [sum(self.reach[:i]) for i in range(len(self.reach))]
        self.K = sum(self.reach)
        self.C = m.blocks[0].subs[0].dw.in_channels
        self.nmel = m.cfg["nmel"]
        self.calibration = None  # a list to record matrix-product input ranges into (INT8 calibration)
        self._calls = 0
        # batch norm folded into the pointwise weights once, stored as constants of the graph
        self._folded = {}
        pairs = [(m.c1.pw, m.c1.bn), (m.c2.pw, m.c2.bn), (m.c3[0], m.c3[1])]
        for b in m.blocks:
            pairs += [(sub.pw, sub.bn) for sub in b.subs] + [(b.res[0], b.res[1])]
        for i, (pw, bn) in enumerate(pairs):
            w, bias = _fold(pw, bn)
            self.register_buffer(f"fold_w{i}", w)
            self.register_buffer(f"fold_b{i}", bias)
            self._folded[id(pw)] = i
        self.register_buffer("out_w", m.out.weight[:, :, 0].t().contiguous().detach())
        self.register_buffer("out_b", m.out.bias.detach().clone())
        for conv in [m.c1.dw] + m.stream_layers():
            self.register_buffer(f"dw{id(conv)}", conv.weight[:, 0, :].t().contiguous().detach())

    def cache_shapes(self):
        return (1, self.c1_ctx, self.nmel), (1, self.K, self.C)

    def _depthwise(self, conv, full, n_out, stride=1):
        """full [N, T_in, C]: output t = sum over taps i of w[i] * full[stride*t + dilation*i]."""
        k, d = conv.kernel_size[0], conv.dilation[0]
        idx = torch.arange(n_out)[:, None] * stride + torch.arange(k)[None, :] * d
        w = getattr(self, f"dw{id(conv)}")  # [k, C]
        return (full[:, idx] * w).sum(dim=2)

    def _record(self, x2):
        """Calibration (export's INT8): range of every matrix product's input, in call order."""
        if self.calibration is not None:
            k = self._calls
            lo, hi = float(x2.min()), float(x2.max())
            if k < len(self.calibration):
                a, b = self.calibration[k]
                self.calibration[k] = (min(a, lo), max(b, hi))
            else:
                self.calibration.append((lo, hi))
            self._calls += 1

    def _pointwise(self, pw, bn, x2):
        """x2 [N*T, Cin] -> [N*T, Cout]: one matrix product (Gemm) with the batch norm folded in."""
        self._record(x2)
        i = self._folded[id(pw)]
        return torch.addmm(getattr(self, f"fold_b{i}"), x2, getattr(self, f"fold_w{i}"))

    def _sep(self, sep, x2, n, t, cache_last_time, li, caches_out):
        reach, at = self.reach[li], self.offsets[li]
        full = torch.cat([cache_last_time[:, 0, at:at + reach], x2.reshape(n, t, self.C)], dim=1)
        caches_out.append(full[:, full.shape[1] - reach:])
        y = self._depthwise(sep.dw, full, t)
        return self._pointwise(sep.pw, sep.bn, y.reshape(n * t, self.C))

    def forward(self, audio_signal, length, cache_last_channel, cache_last_time, cache_last_channel_len):
        m = self.m
        self._calls = 0
        x = ((audio_signal - m.feat_mean[None, :, None]) / m.feat_std[None, :, None]).transpose(1, 2)
        n, t = x.shape[0], x.shape[1] // 2
        full = torch.cat([cache_last_channel[:, 0], x], dim=1)
        c1_next = full[:, full.shape[1] - self.c1_ctx:].unsqueeze(1)
        y = self._depthwise(m.c1.dw, full, t, stride=2).reshape(n * t, self.nmel)
        y = torch.relu(self._pointwise(m.c1.pw, m.c1.bn, y))
        caches = []
        li = 0
        for b in m.blocks:
            z = y
            for i, s in enumerate(b.subs):
                z = self._sep(s, z, n, t, cache_last_time, li, caches)
                li += 1
                if i < len(b.subs) - 1:
                    z = torch.relu(z)
            y = torch.relu(z + self._pointwise(b.res[0], b.res[1], y))
        y = torch.relu(self._sep(m.c2, y, n, t, cache_last_time, li, caches))
        y = torch.relu(self._pointwise(m.c3[0], m.c3[1], y))
        self._record(y)
        logits = torch.addmm(self.out_b, y, self.out_w)
        out = torch.log_softmax(logits, dim=-1).reshape(n, t, -1)
        out_len = torch.div(length, 2, rounding_mode="floor")
        return out, out_len, c1_next, torch.cat(caches, dim=1).unsqueeze(1), cache_last_channel_len + t


# The published streaming model: causal, small dilated kernels (cheap to batch as gathers), 1.7 s of left context.
STREAMING_CONFIG = dict(blocks=(5, 5, 5, 5, 5), dilations=(1, 2, 4, 2, 1), k1=7, k_end=5, causal=True)
