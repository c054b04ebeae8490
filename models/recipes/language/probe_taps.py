"""Probe: which layer of the English ASR encoder tells languages apart on speakers it never heard?

For every utterance, the mean and standard deviation over time of the activations at each tap of the frozen ASR
encoder (`models/asr-en-telephony/model.onnx`), of the utterance-mean-normalised log-mels ("mel") and of the ASR
log-posteriors ("lp") for comparison; a linear classifier per feature on (up to 6,000 of) the training utterances
of the index, each speaker weighted equally; language accuracy on the dev split, and on the held-out speakers per
utterance / per call of 5, with what the held-out calls were taken for. A measurement, not part of the model:

    /usr/bin/python3 probe_taps.py [--index work/corpus/index.tsv] [--und-below 0 0.5]

`--phone-ckpt` probes the multilingual phone recogniser (train_phones.py) instead, with "lp2" (which phone follows
which) beside its phone posteriors; `--features` limits the features; `--save` keeps one feature's classifier as a
checkpoint that export.py and eval.py take.
"""
import argparse
import collections
import os
import random

import numpy as np
import torch

from asr_front import ASR_ONNX, _asr_model_module
from eval import decide
from score_files import write_scores
from labels import CLASSES, LANGUAGE_OF
from model import build, stats_pool
from train import SR, load_split
from train_phones import load_phone_model

from features import TorchFbank  # noqa: E402 (../asr, on the path once asr_front is imported)
from warmstart import load_onnx  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CALL = 5
LAG = 4  # output frames (20 ms each): about one phone on


def pooled_features(asr, fbank, x):
    """One utterance (int16) -> {feature name: mean and standard deviation over time}."""
    w = torch.from_numpy(x.astype(np.float32) / 32768.0)[None]
    feats, _ = fbank(w, torch.tensor([w.shape[1]]))  # [1, T, 80]
    feats = feats.transpose(1, 2)
    out = {"mel": feats - feats.mean(2, keepdim=True)}
    for tap, h, _ in asr.encoder_taps(feats, torch.tensor([feats.shape[2]])):
        out[tap] = h
    out["lp"] = torch.log_softmax(asr.out(h), dim=1)
    pooled = {k: stats_pool(v)[0].numpy() for k, v in out.items()}
    # which sound follows which: posteriors (blank left out) of each frame against those LAG frames later
    p = torch.softmax(out["lp"][0, :-1], dim=0)
    if p.shape[1] > LAG:
        pooled["lp2"] = (p[:, :-LAG] @ p[:, LAG:].T / (p.shape[1] - LAG)).reshape(-1).numpy()
    else:
        pooled["lp2"] = np.zeros(p.shape[0] ** 2, dtype=np.float32)
    return pooled


def nuisance_projection(Z, masks, speakers, k):
    """The projection that removes the k directions in which speakers of one language differ most (nuisance
    attribute projection): eigenvectors of the scatter of each speaker's mean row around its language's mean of
    speaker means. Z is standardised; -> [D, D], the identity for k = 0."""
    D = Z.shape[1]
    if k == 0:
        return np.eye(D, dtype=np.float32)
    by_speaker = collections.defaultdict(list)
    for z, m, s in zip(Z, masks, speakers):
        by_speaker[(true_language(m), s)].append(z)
    means = {key: np.mean(rows, 0) for key, rows in by_speaker.items()}
    by_language = collections.defaultdict(list)
    for (lang, _), m in means.items():
        by_language[lang].append(m)
    centred = [m - np.mean(by_language[lang], 0) for (lang, _), m in means.items() if len(by_language[lang]) > 1]
    C = np.stack(centred)
    _, _, vt = np.linalg.svd(C, full_matrices=False)
    U = vt[:k].T
    return (np.eye(D) - U @ U.T).astype(np.float32)


def fit_linear(X, masks, speakers, epochs=300, nap=0):
    """A linear classifier on standardised X, each speaker weighted equally, after removing `nap` within-language
    speaker directions (nuisance_projection); -> log-posteriors of new rows. The projection is folded into the
    returned layer's weights, so it is one linear layer on standardised rows as before."""
    mu, sd = X.mean(0), X.std(0) + 1e-5
    P = nuisance_projection((X - mu) / sd, masks, speakers, nap)
    Xt = torch.tensor((X - mu) / sd @ P, dtype=torch.float32)
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
    with torch.no_grad():
        lin.weight.copy_(lin.weight @ torch.tensor(P.T))  # P is symmetric: lin(P z) = (W P) z + b

    def classify(Z):
        return torch.log_softmax(lin(torch.tensor((Z - mu) / sd, dtype=torch.float32)), 1).detach().numpy()

    return classify, (lin, mu, sd)


def language(logp, und_below):
    return decide(logp, und_below)[0]


def true_language(mask):
    return LANGUAGE_OF[CLASSES[int(np.argmax(mask))]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", default=os.path.join(HERE, "work", "corpus", "index.tsv"))
    ap.add_argument("--und-below", type=float, nargs="+", default=[0.0],
                    help="thresholds as eval.py's, each reported; 0 forces a choice")
    ap.add_argument("--phone-ckpt", default="",
                    help="probe a train_phones.py checkpoint (the multilingual phone recogniser) instead")
    ap.add_argument("--features", nargs="*", default=[], help="only these features (default: every one)")
    ap.add_argument("--save", default="", help="save the classifier of the one feature in --features as a "
                    "checkpoint export.py takes (its front: the tap, of the phone recogniser with --phone-ckpt)")
    ap.add_argument("--nap", type=int, nargs="+", default=[0],
                    help="within-language speaker directions removed before the classifier, each reported "
                    "(--save keeps the last)")
    ap.add_argument("--cache", default="", help="keep the pooled features of every split in this .npz and reuse "
                    "them on the next run with the same index and front")
    ap.add_argument("--scores", default="", help="write the held-out and dev utterances' log-posteriors of the "
                    "last classifier (fuse.py reads them)")
    args = ap.parse_args()
    if args.save and len(args.features) != 1:
        ap.error("--save takes exactly one --features entry")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    if args.phone_ckpt:
        asr, _ = load_phone_model(args.phone_ckpt)
    else:
        am = _asr_model_module()
        asr = load_onnx(am.CtcModel(**am.STREAMING_CONFIG), ASR_ONNX).eval()
    fbank = TorchFbank()
    front = os.path.abspath(args.phone_ckpt) if args.phone_ckpt else ASR_ONNX
    cached = dict(np.load(args.cache, allow_pickle=True)) if args.cache and os.path.exists(args.cache) else {}
    if str(cached.get("front", "")) != front:
        cached = {"front": np.array(front)}  # features of another front end are no use
    splits = {}
    for split in ("train", "dev", "heldout"):
        items = load_split(args.index, split)
        if split == "train":
            random.Random(0).shuffle(items)
            items = items[:6000]
        if split in cached and [it[4] for it in items] == list(cached[split + "-paths"]):
            feats = list(cached[split])
        else:
            with torch.no_grad():
                feats = [pooled_features(asr, fbank, it[0]) for it in items]
            cached[split], cached[split + "-paths"] = np.array(feats, dtype=object), np.array([it[4] for it in items])
            if args.cache:
                np.savez(args.cache, **cached)
        splits[split] = (items, feats)
        print(f"{split}: {len(items)} utterances, {sum(len(it[0]) for it in items) / SR / 60:.0f} min", flush=True)
    train_items, train_feats = splits["train"]
    for key, nap in [(key, nap) for key in args.features or train_feats[0] for nap in args.nap]:
        classify, fitted = fit_linear(np.stack([f[key] for f in train_feats]), np.stack([it[1] for it in train_items]),
                                      [it[2] for it in train_items], nap=nap)
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
            print(f"{key:4s} nap {nap:2d} und<{und_below} dev {100 * dev_acc:.0f}  " + "  ".join(cells), flush=True)
        if args.scores:
            write_scores(args.scores, [(it[4], it[2], lp) for lp, it in zip(list(dev_lp) + list(held_lp),
                                                                          dev_items + held_items)])
        if args.save:
            save_linear(args.save, ("ph-" if args.phone_ckpt else "") + key, fitted, dev_acc, train_items)


def tag_kinds(items):
    """{tag: the kinds of speech (real, pseudo, synth) it was trained on} for the tags the items carry."""
    kinds = collections.defaultdict(set)
    for _, mask, _, kind, _ in items:
        for i in np.nonzero(mask)[0]:
            kinds[CLASSES[i]].add(kind)
    return {tag: sorted(k) for tag, k in kinds.items()}


def save_linear(path, front, fitted, dev_acc, train_items):
    """The fitted classifier and its front as a checkpoint export.py and eval.py read (model.LinearLanguageNet),
    with what each tag was trained on (export.py writes it into the manifest's labels)."""
    lin, mu, sd = fitted
    net = build(len(CLASSES), front, head="linear")
    with torch.no_grad():
        net.mu.copy_(torch.tensor(mu, dtype=torch.float32))
        net.sd.copy_(torch.tensor(sd, dtype=torch.float32))
        net.lin.load_state_dict(lin.state_dict())
    torch.save({"model": net.state_dict(), "front": front, "head": "linear", "step": 0, "dev": float(dev_acc),
                "tagKinds": tag_kinds(train_items)}, path)
    print(f"saved {path} (front {front})", flush=True)


if __name__ == "__main__":
    main()
