"""Trains the language-ID network on work/corpus (train split), time-budgeted and resumable.

Each batch draws classes uniformly, then a speaker of that class uniformly, then one of its utterances,
so a class with one real speaker and one synthetic voice sees both equally. A random crop of 1.2-4 s goes
through the telephone channel simulation of the ASR recipe (speed, band-pass, noise, G.711) before
log-mel features, then SpecAugment masks. Audio whose variant is unknown (fillets-ng's English) is
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
from channel import telephone  # noqa: E402
from features import TorchFbank  # noqa: E402

from labels import CLASSES  # noqa: E402
from model import LanguageNet  # noqa: E402

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
        mask = np.zeros(len(CLASSES), dtype=np.float32)
        for t in r["tags"].split(","):
            mask[CLASSES.index(t)] = 1
        out.append((x, mask, r["speaker"], r["kind"], r["path"]))
    return out


class Sampler:
    def __init__(self, items, rnd):
        self.rnd = rnd
        self.units = {}
        for i, (_, mask, spk, _, _) in enumerate(items):
            self.units.setdefault((spk, tuple(mask.tolist())), []).append(i)
        self.by_class = {c: [] for c in range(len(CLASSES))}
        for key in self.units:
            for c in np.nonzero(np.array(key[1]))[0]:
                self.by_class[int(c)].append(key)
        self.classes = [c for c, u in self.by_class.items() if u]

    def draw(self):
        c = self.rnd.choice(self.classes)
        unit = self.rnd.choice(self.by_class[c])
        return self.rnd.choice(self.units[unit])


def make_batch(items, idxs, fbank, rnd, train):
    waves, lens = [], []
    for i in idxs:
        x = torch.from_numpy(items[i][0].astype(np.float32) / 32768.0)
        if train:
            L = int(rnd.uniform(1.2, 4.0) * SR)
            if x.shape[0] > L:
                s = rnd.randrange(0, x.shape[0] - L)
                x = x[s:s + L]
            others = [torch.from_numpy(items[rnd.randrange(len(items))][0].astype(np.float32) / 32768.0)
                      for _ in range(2)]
            x = telephone(x, rnd, others=others, strong=rnd.random() < 0.5)
        waves.append(x)
        lens.append(x.shape[0])
    W = torch.zeros(len(waves), max(lens))
    for b, x in enumerate(waves):
        W[b, : x.shape[0]] = x
    with torch.no_grad():
        feats, F = fbank(W, torch.tensor(lens))
    T = feats.shape[1]
    mask = (torch.arange(T)[None, :] < F[:, None]).float()
    if train:
        for b in range(feats.shape[0]):
            for _ in range(2):
                w = rnd.randint(0, 10)
                f0 = rnd.randint(0, 80 - w)
                feats[b, :, f0:f0 + w] = feats[b, : int(F[b])].mean()
            for _ in range(2):
                w = rnd.randint(0, min(20, int(F[b]) // 8))
                t0 = rnd.randint(0, max(0, int(F[b]) - w))
                feats[b, t0:t0 + w, :] = feats[b, : int(F[b])].mean()
    targets = torch.from_numpy(np.stack([items[i][1] for i in idxs]))
    return feats, mask, targets


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
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rnd = random.Random(args.seed)
    os.makedirs(args.ckpt_dir, exist_ok=True)

    train = load_split(args.index, "train")
    dev = load_split(args.index, "dev")[::3]  # a third keeps the periodic check cheap
    print(f"train {len(train)} utterances ({sum(len(i[0]) for i in train) / SR / 3600:.2f} h), dev {len(dev)}",
          flush=True)
    sampler = Sampler(train, rnd)
    fbank = TorchFbank()
    model = LanguageNet(len(CLASSES))
    print(f"parameters: {sum(p.numel() for p in model.parameters())}", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-2)
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
        feats, mask, targets = make_batch(train, [sampler.draw() for _ in range(args.batch)], fbank, rnd, True)
        loss = set_loss(model(feats, mask), targets)
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
                torch.save({"model": model.state_dict(), "step": step, "dev": acc}, os.path.join(args.ckpt_dir, "best.pt"))
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "used_s": used_s,
                        "best": best}, last)
            last_save = time.time()
    acc = evaluate(model, dev, fbank)
    print(f"final dev utterance accuracy {acc:.3f} at step {step}", flush=True)
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "used_s": budget, "best": best}, last)
    if acc >= best:
        torch.save({"model": model.state_dict(), "step": step, "dev": acc}, os.path.join(args.ckpt_dir, "best.pt"))


if __name__ == "__main__":
    main()
