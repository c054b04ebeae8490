"""Language-ID network: log-mel frames -> per-utterance log-posteriors over the class tags.

Depthwise-separable 1-D convolutions (fast on CPU), then mean and standard-deviation pooling over time.
Per-utterance mean normalisation of the log-mels sits inside the graph, so callers pass raw features.
"""
import torch
from torch import nn


class SepBlock(nn.Module):
    def __init__(self, ch, k, dilation):
        super().__init__()
        pad = dilation * (k - 1) // 2
        self.dw = nn.Conv1d(ch, ch, k, padding=pad, dilation=dilation, groups=ch)
        self.pw = nn.Conv1d(ch, ch, 1)
        self.bn = nn.BatchNorm1d(ch)
        self.drop = nn.Dropout(0.1)

    def forward(self, x):
        return x + self.drop(torch.relu(self.bn(self.pw(self.dw(x)))))


def stats_pool(x):
    """[N, C, T] -> [N, 2C]: mean and standard deviation over time."""
    mu = x.mean(dim=2)
    sd = torch.sqrt(((x - mu.unsqueeze(2)) ** 2).mean(dim=2) + 1e-5)
    return torch.cat([mu, sd], dim=1)


class LanguageNet(nn.Module):
    def __init__(self, n_classes, n_mel=80, ch=128, stride=3, dilations=(1, 2, 4, 1, 2)):
        super().__init__()
        self.inp = nn.Sequential(nn.Conv1d(n_mel, ch, 5, stride=stride, padding=2), nn.BatchNorm1d(ch), nn.ReLU())
        self.stride = stride
        self.blocks = nn.Sequential(*[SepBlock(ch, 5, d) for d in dilations])
        self.head = nn.Sequential(nn.Linear(2 * ch, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, n_classes))

    def forward(self, feats, mask=None):
        """feats [N, T, 80] raw log-mel; mask [N, T] (1 = real frame) in training, None for one utterance."""
        if mask is None:
            feats = feats - feats.mean(dim=1, keepdim=True)
        else:
            m = mask.unsqueeze(2)
            mean = (feats * m).sum(1, keepdim=True) / m.sum(1, keepdim=True).clamp(min=1)
            feats = (feats - mean) * m
        x = self.blocks(self.inp(feats.transpose(1, 2)))  # [N, ch, T/stride]
        if mask is None:
            pooled = stats_pool(x)
        else:
            m2 = mask[:, :: self.stride][:, : x.shape[2]].unsqueeze(1)
            n = m2.sum(2).clamp(min=1)
            mu = (x * m2).sum(2) / n
            sd = torch.sqrt((((x - mu.unsqueeze(2)) ** 2) * m2).sum(2) / n + 1e-5)
            pooled = torch.cat([mu, sd], dim=1)
        return torch.log_softmax(self.head(pooled), dim=1)


class FrontLanguageNet(nn.Module):
    """A frozen front end (asr_front.AsrFront) -> a few separable convolutions -> statistics pooling -> tags.

    Crops in training are of equal length and inference takes one utterance at a time, so nothing is padded."""

    def __init__(self, n_classes, front, ch=128, dilations=(1, 2, 4)):
        super().__init__()
        self.front = front
        self.inp = nn.Sequential(nn.Conv1d(front.channels, ch, 1), nn.BatchNorm1d(ch), nn.ReLU())
        self.blocks = nn.Sequential(*[SepBlock(ch, 5, d) for d in dilations])
        self.head = nn.Sequential(nn.Linear(2 * ch, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, n_classes))

    def forward(self, feats, mask=None):
        """feats [N, T, 80] raw log-mel; `mask` is accepted for LanguageNet's signature and must be None."""
        assert mask is None, "FrontLanguageNet takes unpadded utterances"
        with torch.no_grad():
            h = self.front(feats)
        return torch.log_softmax(self.head(stats_pool(self.blocks(self.inp(h)))), dim=1)


class LinearLanguageNet(nn.Module):
    """A frozen front end -> mean and standard deviation over time -> standardised -> one linear layer -> tags.

    The classifier probe_taps.py fits (`--save`): with few real speakers per language, one linear layer on whole-
    utterance statistics leans on their voices less than a trained convolutional head does."""

    def __init__(self, n_classes, front):
        super().__init__()
        self.front = front
        self.register_buffer("mu", torch.zeros(2 * front.channels))
        self.register_buffer("sd", torch.ones(2 * front.channels))
        self.lin = nn.Linear(2 * front.channels, n_classes)

    def forward(self, feats, mask=None):
        assert mask is None, "LinearLanguageNet takes unpadded utterances"
        pooled = stats_pool(self.front(feats))
        return torch.log_softmax(self.lin((pooled - self.mu) / self.sd), dim=1)


def build(n_classes, front="", head="conv"):
    """The network a checkpoint's `front` and `head` name: "" = LanguageNet on log-mels, else FrontLanguageNet
    (head "conv") or LinearLanguageNet (head "linear") on a frozen front's activations at that tap
    (asr_front.TAPS, PHONE_TAPS)."""
    if not front:
        return LanguageNet(n_classes)
    from asr_front import AsrFront
    if head == "linear":
        return LinearLanguageNet(n_classes, AsrFront(front))
    return FrontLanguageNet(n_classes, AsrFront(front))
