"""Small QuartzNet-style CTC model (depthwise-separable 1-D convolutions).

Streaming/batching contract:
 * first op: global mean/std normalisation (constants from training features)
 * after every conv block activations are multiplied by the time mask derived
   from `length`, so padded frames are exactly zero at every layer and a
   sequence's output in a padded batch equals its output alone.
 * one stride-2 conv at the start: output length = length // 2 (the value
   sherpa-onnx assumes: features_length / subsampling_factor).
 * symmetric "same" padding, finite receptive field (see receptive_field()).
"""
import torch
import torch.nn as nn

VOCAB = ["\u2581", "'"] + [chr(c) for c in range(ord("a"), ord("z") + 1)] + ["<blk>"]
BLANK = len(VOCAB) - 1
CHAR2ID = {(" " if t == "\u2581" else t): i for i, t in enumerate(VOCAB) if t != "<blk>"}


def encode(text):
    return [CHAR2ID[c] for c in text if c in CHAR2ID]


def decode_greedy(ids):
    out, prev = [], -1
    for i in ids:
        if i != prev and i != BLANK:
            out.append(" " if i == 0 else VOCAB[i])
        prev = i
    return "".join(out).strip()


class SepConv(nn.Module):
    def __init__(self, cin, cout, k, stride=1, dilation=1):
        super().__init__()
        pad = dilation * (k - 1) // 2
        self.dw = nn.Conv1d(cin, cin, k, stride=stride, padding=pad, dilation=dilation, groups=cin, bias=False)
        self.pw = nn.Conv1d(cin, cout, 1, bias=False)
        self.bn = nn.BatchNorm1d(cout)

    def forward(self, x):
        return self.bn(self.pw(self.dw(x)))


class Block(nn.Module):
    def __init__(self, c, k, repeat, dropout):
        super().__init__()
        self.subs = nn.ModuleList([SepConv(c, c, k) for _ in range(repeat)])
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
    def __init__(self, nmel=80, c=192, blocks=(11, 13, 15, 17, 19), repeat=2, c_end=256, k1=11, k_end=21, dropout=0.0):
        super().__init__()
        self.cfg = dict(nmel=nmel, c=c, blocks=list(blocks), repeat=repeat, c_end=c_end, k1=k1, k_end=k_end, dropout=dropout)
        self.register_buffer("feat_mean", torch.zeros(nmel))
        self.register_buffer("feat_std", torch.ones(nmel))
        self.k1, self.blocks_k, self.repeat, self.k_end = k1, list(blocks), repeat, k_end
        self.c1 = SepConv(nmel, c, k1, stride=2)
        self.blocks = nn.ModuleList([Block(c, k, repeat, dropout) for k in blocks])
        self.c2 = SepConv(c, c_end, k_end)
        self.c3 = nn.Sequential(nn.Conv1d(c_end, c_end, 1, bias=False), nn.BatchNorm1d(c_end))
        self.out = nn.Conv1d(c_end, len(VOCAB), 1, bias=True)
        self.drop = nn.Dropout(dropout)

    def receptive_field(self):
        """one-sided receptive field in input feature frames (symmetric)."""
        half_out = sum(self.repeat * (k - 1) // 2 for k in self.blocks_k) + (self.k_end - 1) // 2
        return (self.k1 - 1) // 2 + 2 * half_out

    @staticmethod
    def time_mask(length, T):
        return (torch.arange(T, device=length.device)[None, :] < length[:, None]).to(torch.float32)[:, None, :]

    def forward(self, audio_signal, length, normalize=True):
        """audio_signal [N, 80, T] raw log-mel; length [N] int64. -> logprobs [N, T', V], out_len [N]"""
        x = audio_signal
        T = x.shape[2]
        if normalize:
            x = (x - self.feat_mean[None, :, None]) / self.feat_std[None, :, None]
        x = x * self.time_mask(length, T)
        out_len = torch.div(length, 2, rounding_mode="floor")
        x = self.c1(x)
        m = self.time_mask(out_len, x.shape[2])
        x = self.drop(torch.relu(x)) * m
        for b in self.blocks:
            x = b(x, m)
        x = self.drop(torch.relu(self.c2(x))) * m
        x = self.drop(torch.relu(self.c3(x))) * m
        x = self.out(x)
        return torch.log_softmax(x, dim=1).transpose(1, 2), out_len
