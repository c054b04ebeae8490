"""Trains the language-ID network on work/corpus (train split), time-budgeted and resumable.

Each batch draws classes uniformly, then a speaker of that class uniformly, then one of its utterances,
so a class with one real speaker and one synthetic voice sees both equally (`--synth-weight` draws synthetic
voices less often within a class, `--synth-class-weight` the classes that have no real speaker). Log-mel features
are computed once; each crop of 1.2-3 s is augmented on the features, which is what two shared CPU cores allow:
tempo (0.85-1.15), a vocal-tract-length warp of the mel axis (0.86-1.14, against learning one
speaker's formants), attenuated telephone band edges, additive noise 5-30 dB down, SpecAugment masks.
Audio whose variant is unknown (Tux Paint's narrators) is
trained on its language: the loss is -log of the summed probability of every tag it may have.
Checkpoints: work/ckpt/last.pt every few minutes, best.pt on the dev split's utterance accuracy.
"""
import argparse
import csv
import math
import os
import random
import sys
import time
import wave

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(HERE, "..", "asr"))  # after this folder: both have a model.py
from features import TorchFbank  # noqa: E402

from labels import CLASSES  # noqa: E402
from model import build  # noqa: E402

SR = 8000


def read_wav(path):
    with wave.open(path, "rb") as w:
        assert w.getframerate() == SR and w.getsampwidth() == 2 and w.getnchannels() == 1, path
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").copy()


def trim(x, thresh=0.01):
    """Cut leading/trailing near-silence (prompts carry up to a second of it)."""
    a = np.abs(x.astype(np.float32) / 32768.0)
    if a.size < 400:
        return x
    e = np.convolve(a, np.ones(160) / 160, mode="same")
    idx = np.nonzero(e > thresh * max(e.max(), 1e-4) * 4)[0]
    if idx.size == 0:
        return x
    return x[max(0, idx[0] - 800): idx[-1] + 800]


def load_split(index, split):
    rows = [r for r in csv.DictReader(open(index), delimiter="\t") if r["split"] == split]
    out = []
    for r in rows:
        x = trim(read_wav(r["path"]))
        if x.size < int(0.5 * SR):
            continue
        out.append((x, tag_mask(r["tags"]), r["speaker"], r["kind"], r["path"]))
    return out


def tag_mask(tags):
    """An index row's comma-separated tags -> [C] with 1 for each of them (the loss takes any as right)."""
    mask = np.zeros(len(CLASSES), dtype=np.float32)
    for t in tags.split(","):
        mask[CLASSES.index(t)] = 1
    return mask


class Sampler:
    """Draws a class (one that has only synthetic voices weighted by `synth_class_weight` against 1 for the others),
    then one of its speakers (a synthetic voice weighted by `synth_weight` against a real speaker's 1), then one of
    that speaker's utterances."""

    def __init__(self, items, rnd, synth_weight=1.0, synth_class_weight=1.0):
        self.rnd = rnd
        self.units = {}
        synth = set()
        for i, (_, mask, spk, kind, _) in enumerate(items):
            key = (spk, tuple(mask.tolist()))
            self.units.setdefault(key, []).append(i)
            if kind == "synth":
                synth.add(key)
        self.by_class = {c: [] for c in range(len(CLASSES))}
        for key in self.units:
            for c in np.nonzero(np.array(key[1]))[0]:
                self.by_class[int(c)].append(key)
        self.weights = {c: [synth_weight if k in synth else 1.0 for k in units] for c, units in self.by_class.items()}
        self.classes = [c for c, u in self.by_class.items() if u]
        self.class_weights = [1.0 if any(k not in synth for k in self.by_class[c]) else synth_class_weight
                              for c in self.classes]
        self.uniform, self.uniform_classes = synth_weight == 1.0, synth_class_weight == 1.0

    def draw(self):
        c = (self.rnd.choice(self.classes) if self.uniform_classes
             else self.rnd.choices(self.classes, self.class_weights)[0])
        units = self.by_class[c]
        unit = self.rnd.choice(units) if self.uniform else self.rnd.choices(units, weights=self.weights[c])[0]
        return self.rnd.choice(self.units[unit])


def featurize(items, fbank):
    """Log-mel features of every utterance, once: augmentation then works on features (cheap on 2 cores)."""
    out = []
    with torch.no_grad():
        for x, mask, spk, kind, path in items:
            w = torch.from_numpy(x.astype(np.float32) / 32768.0)[None]
            feats, _ = fbank(w, torch.tensor([w.shape[1]]))
            out.append(feats[0])
    return out


def augment(f, rnd):
    """One crop's features [T, 80] -> augmented copy: vocal-tract warp, tempo, telephone band edges, noise."""
    T, D = f.shape
    if rnd.random() < 0.9:  # vocal-tract length: stretch or squeeze the mel axis
        a = rnd.uniform(0.86, 1.14)
        pos = torch.clamp(torch.arange(D, dtype=torch.float32) * a, 0, D - 1)
        lo = pos.floor().long()
        hi = torch.clamp(lo + 1, max=D - 1)
        frac = pos - lo
        f = f[:, lo] * (1 - frac) + f[:, hi] * frac
    if rnd.random() < 0.8:  # telephone band edges: attenuate the lowest and highest bins
        k_lo, k_hi = rnd.randint(0, 8), rnd.randint(0, 6)
        f = f.clone()
        if k_lo:
            f[:, :k_lo] -= torch.linspace(rnd.uniform(2, 8), 0, k_lo)
        if k_hi:
            f[:, D - k_hi:] -= torch.linspace(0, rnd.uniform(2, 8), k_hi)
    if rnd.random() < 0.7:  # additive noise in the power domain, 5-30 dB below the mean speech energy
        level = f.mean() - rnd.uniform(5, 30) * math.log(10) / 10
        tilt = torch.linspace(0, rnd.uniform(-3, 1), D)
        noise = level + tilt + 0.5 * torch.randn(T, D)
        f = torch.logaddexp(f, noise)
    return f


def spec_masks(c, rnd, max_time=20, max_time_frac=1.0):
    """Two frequency masks (up to 8 bins) and two time masks (up to `max_time` frames and `max_time_frac` of the
    crop), set to the crop's mean, in place; returns `c`."""
    T = c.shape[0]
    for _ in range(2):
        w = rnd.randint(0, 8)
        f0 = rnd.randint(0, 80 - w)
        c[:, f0:f0 + w] = c.mean()
        w = min(rnd.randint(0, max_time), int(T * max_time_frac))
        t0 = rnd.randint(0, T - w)
        c[t0:t0 + w, :] = c.mean()
    return c


def make_batch(feats_list, items, idxs, rnd, train, T=None):
    """A batch of equal-length crops (no padding: training sees what inference sees)."""
    if T is None:
        T = rnd.randint(120, 300)
    out = []
    for i in idxs:
        f = feats_list[i]
        tempo = rnd.uniform(0.85, 1.15)
        need = max(2, int(round(T * tempo)))
        while f.shape[0] < need:  # short utterances are looped
            f = torch.cat([f, f])
        s = rnd.randrange(0, f.shape[0] - need + 1)
        c = f[s:s + need]
        if need != T:
            c = torch.nn.functional.interpolate(c.T[None], size=T, mode="linear", align_corners=False)[0].T
        out.append(spec_masks(augment(c, rnd).clone(), rnd))
    targets = torch.from_numpy(np.stack([items[i][1] for i in idxs]))
    return torch.stack(out), targets


def set_loss(logp, targets):
    return -(torch.logsumexp(logp.masked_fill(targets == 0, -1e9), dim=1)).mean()


def evaluate(model, items, fbank):
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, mask, _, _, _ in items:
            w = torch.from_numpy(x.astype(np.float32) / 32768.0)[None]
            feats, _ = fbank(w, torch.tensor([w.shape[1]]))
            pred = int(model(feats).argmax(1))
            correct += int(mask[pred] > 0)
    model.train()
    return correct / max(1, len(items))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", default=os.path.join(HERE, "work", "corpus", "index.tsv"))
    ap.add_argument("--ckpt-dir", default=os.path.join(HERE, "work", "ckpt"))
    ap.add_argument("--minutes", type=float, default=25)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--synth-weight", type=float, default=1.0,
                    help="weight of a synthetic voice against a real speaker's 1 when a class has both")
    ap.add_argument("--synth-class-weight", type=float, default=1.0,
                    help="weight of drawing a class that has only synthetic voices, against 1 for the others")
    ap.add_argument("--front", default="", help="'' (log-mels) or a tap of the frozen ASR encoder (asr_front.TAPS)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rnd = random.Random(args.seed)
    os.makedirs(args.ckpt_dir, exist_ok=True)

    train = load_split(args.index, "train")
    dev = load_split(args.index, "dev")[::6]  # a sixth keeps the periodic check cheap
    print(f"train {len(train)} utterances ({sum(len(i[0]) for i in train) / SR / 3600:.2f} h), dev {len(dev)}",
          flush=True)
    sampler = Sampler(train, rnd, args.synth_weight, args.synth_class_weight)
    fbank = TorchFbank()
    t_feat = time.time()
    train_feats = featurize(train, fbank)
    print(f"features of the training set in {time.time() - t_feat:.0f} s", flush=True)
    model = build(len(CLASSES), args.front)
    trainable = [p for p in model.parameters() if p.requires_grad]
    print(f"parameters: {sum(p.numel() for p in model.parameters())}, trained {sum(p.numel() for p in trainable)}",
          flush=True)
    opt = torch.optim.AdamW(trainable, lr=args.lr, weight_decay=1e-2)
    step, used_s, best = 0, 0.0, -1.0
    last = os.path.join(args.ckpt_dir, "last.pt")
    if os.path.exists(last):
        ck = torch.load(last)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, used_s, best = ck["step"], ck["used_s"], ck["best"]
        print(f"resumed at step {step}, {used_s / 60:.1f} min used", flush=True)
    budget = args.minutes * 60
    t0, last_save, run_loss = time.time() - used_s, time.time(), 0.0
    while True:
        used_s = time.time() - t0
        if used_s >= budget:
            break
        frac = used_s / budget
        lr = args.lr * min(1.0, frac / 0.05) * 0.5 * (1 + math.cos(math.pi * frac))
        for g in opt.param_groups:
            g["lr"] = lr
        feats, targets = make_batch(train_feats, train, [sampler.draw() for _ in range(args.batch)], rnd, True)
        loss = set_loss(model(feats), targets)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        run_loss = 0.98 * run_loss + 0.02 * float(loss) if step > 1 else float(loss)
        if step % 50 == 0:
            print(f"step {step} {used_s / 60:.1f} min lr {lr:.2e} loss {run_loss:.3f}", flush=True)
        if time.time() - last_save > 180:
            acc = evaluate(model, dev, fbank)
            print(f"dev utterance accuracy {acc:.3f} at step {step}", flush=True)
            if acc >= best:
                best = acc
                torch.save({"model": model.state_dict(), "step": step, "dev": acc, "front": args.front},
                           os.path.join(args.ckpt_dir, "best.pt"))
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "used_s": used_s,
                        "best": best, "front": args.front}, last)
            last_save = time.time()
    acc = evaluate(model, dev, fbank)
    print(f"final dev utterance accuracy {acc:.3f} at step {step}", flush=True)
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "used_s": budget, "best": best,
                "front": args.front}, last)
    if acc >= best:
        torch.save({"model": model.state_dict(), "step": step, "dev": acc, "front": args.front},
                   os.path.join(args.ckpt_dir, "best.pt"))


if __name__ == "__main__":
    main()
