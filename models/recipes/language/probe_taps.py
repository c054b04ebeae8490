"""Probe: which layer of the English ASR encoder tells languages apart on speakers it never heard?

For every utterance, the mean and standard deviation over time of the activations at each tap of the frozen ASR
encoder (`models/asr-en-telephony/model.onnx`), of the utterance-mean-normalised log-mels ("mel") and of the ASR
log-posteriors ("lp") for comparison; a linear classifier per feature on (up to 6,000 of) the training utterances
of the index, each speaker weighted equally; language accuracy on the dev split, and on the held-out speakers per
utterance / per call of 5, with what the held-out calls were taken for. A measurement, not part of the model:

    /usr/bin/python3 probe_taps.py [--index work/corpus/index.tsv] [--und-below 0 0.5]
"""
import argparse
import collections
import os
import random

import numpy as np
import torch

from asr_front import ASR_ONNX, _asr_model_module
from eval import decide
from labels import CLASSES, LANGUAGE_OF
from train import SR, load_split

from features import TorchFbank  # noqa: E402 (../asr, on the path once asr_front is imported)
from warmstart import load_onnx  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CALL = 5


def pooled_features(asr, fbank, x):
    """One utterance (int16) -> {feature name: mean and standard deviation over time}."""
    w = torch.from_numpy(x.astype(np.float32) / 32768.0)[None]
    feats, _ = fbank(w, torch.tensor([w.shape[1]]))  # [1, T, 80]
    feats = feats.transpose(1, 2)
    out = {"mel": feats - feats.mean(2, keepdim=True)}
    for tap, h, _ in asr.encoder_taps(feats, torch.tensor([feats.shape[2]])):
        out[tap] = h
    out["lp"] = torch.log_softmax(asr.out(h), dim=1)
    return {k: torch.cat([v[0].mean(1), v[0].std(1)]).numpy() for k, v in out.items()}


def fit_linear(X, masks, speakers, epochs=300):
    """A linear classifier on standardised X, each speaker weighted equally; -> log-posteriors of new rows."""
    mu, sd = X.mean(0), X.std(0) + 1e-5
    Xt = torch.tensor((X - mu) / sd, dtype=torch.float32)
    log_mask = torch.log(torch.tensor(masks) + 1e-12)
    count = collections.Counter(speakers)
    w = torch.tensor([1.0 / count[s] for s in speakers])
    w = w / w.sum() * len(w)
    lin = torch.nn.Linear(X.shape[1], len(CLASSES))
    opt = torch.optim.Adam(lin.parameters(), 1e-2, weight_decay=1e-4)
    for _ in range(epochs):
        lp = torch.log_softmax(lin(Xt), 1)
        loss = -(torch.logsumexp(lp + log_mask, 1) * w).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return lambda Z: torch.log_softmax(lin(torch.tensor((Z - mu) / sd, dtype=torch.float32)), 1).detach().numpy()


def language(logp, und_below):
    return decide(logp, und_below)[0]


def true_language(mask):
    return LANGUAGE_OF[CLASSES[int(np.argmax(mask))]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", default=os.path.join(HERE, "work", "corpus", "index.tsv"))
    ap.add_argument("--und-below", type=float, nargs="+", default=[0.0],
                    help="thresholds as eval.py's, each reported; 0 forces a choice")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    am = _asr_model_module()
    asr = load_onnx(am.CtcModel(**am.STREAMING_CONFIG), ASR_ONNX).eval()
    fbank = TorchFbank()
    splits = {}
    for split in ("train", "dev", "heldout"):
        items = load_split(args.index, split)
        if split == "train":
            random.Random(0).shuffle(items)
            items = items[:6000]
        with torch.no_grad():
            splits[split] = (items, [pooled_features(asr, fbank, it[0]) for it in items])
        print(f"{split}: {len(items)} utterances, {sum(len(it[0]) for it in items) / SR / 60:.0f} min", flush=True)
    train_items, train_feats = splits["train"]
    for key in train_feats[0]:
        classify = fit_linear(np.stack([f[key] for f in train_feats]), np.stack([it[1] for it in train_items]),
                              [it[2] for it in train_items])
        dev_items, dev_feats = splits["dev"]
        dev_lp = classify(np.stack([f[key] for f in dev_feats]))
        held_items, held_feats = splits["heldout"]
        held_lp = classify(np.stack([f[key] for f in held_feats]))
        by_speaker = collections.defaultdict(list)
        for lp, it in zip(held_lp, held_items):
            by_speaker[it[2]].append((lp, true_language(it[1])))
        calls_of = {}  # speaker -> pooled log-posteriors of its calls
        for speaker, utts in by_speaker.items():
            order = [lp for lp, _ in utts]
            random.Random(1).shuffle(order)
            calls_of[speaker] = [np.mean(order[i:i + CALL], 0) for i in range(0, len(order) - CALL + 1, CALL)]
        for und_below in args.und_below:
            dev_acc = np.mean([language(lp, und_below) == true_language(it[1]) for lp, it in zip(dev_lp, dev_items)])
            cells = []
            for speaker, utts in sorted(by_speaker.items()):
                true = utts[0][1]
                per_utt = np.mean([language(lp, und_below) == true for lp, _ in utts])
                calls = [language(lp, und_below) for lp in calls_of[speaker]]
                taken = collections.Counter(calls).most_common(3)
                cells.append(f"{speaker.split('-')[1]} {100 * per_utt:.0f}/"
                             f"{100 * np.mean([c == true for c in calls]):.0f}"
                             f" ({', '.join(f'{l} {n}' for l, n in taken)})")
            print(f"{key:4s} und<{und_below} dev {100 * dev_acc:.0f}  " + "  ".join(cells), flush=True)


if __name__ == "__main__":
    main()
