"""A multilingual phone recogniser, fine-tuned from the English ASR model, as the language-ID front end.

The English ASR encoder (`asr-en-telephony`) has heard hundreds of voices, but only English: its activations on
Spanish or Italian are those of an English listener. This recipe keeps that encoder, gives it a new output layer over
the shared phone inventory (phones.py) and trains it with CTC on every corpus recording whose words are known
(transcripts.py): the real Asterisk, festvox-ru, fillets-ng and Tux Paint speakers of seven languages, their
pseudo-speakers, and the espeak-ng voices of all eighteen. Each speaker adds to what every shared phone sounds
like, whatever its language. The held-out speakers are never used.

Batches draw a speaker uniformly, then one of its utterances, so the many espeak-ng and fillets-ng clips do not
drown the few real Asterisk voices. Batch norms keep the ASR model's statistics (their folded form, as
`warmstart.load_onnx` leaves them). Augmentation as the language-ID training's (vocal-tract warp, band edges, noise,
masks) plus tempo 0.85-1.15. Time-budgeted and resumable: work/ckpt-phones/last.pt every few minutes, best.pt on
the dev split's phone error rate.

    /usr/bin/python3 train_phones.py --minutes 40
"""
import argparse
import collections
import csv
import math
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from asr_front import ASR_ONNX, _asr_model_module
from phones import build_inventory, text_to_phones
from train import augment, read_wav, spec_masks, trim
from transcripts import read_transcripts

from features import TorchFbank  # noqa: E402 (../asr, on the path once asr_front is imported)
from levenshtein import edit_distance  # noqa: E402
from warmstart import load_onnx  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_SECONDS = 12
MIN_PHONE_COUNT = 200
ASR_MODEL = _asr_model_module()  # ../asr/model.py: CtcModel, STREAMING_CONFIG, ctc_collapse


def build_phone_model(n_phones, onnx_path=ASR_ONNX):
    """The ASR model with its letter output layer replaced by one over `n_phones` phones plus the CTC blank."""
    m = load_onnx(ASR_MODEL.CtcModel(**ASR_MODEL.STREAMING_CONFIG), onnx_path)
    m.out = torch.nn.Conv1d(m.cfg["c_end"], n_phones + 1, 1, bias=True)
    return m


def load_phone_model(ckpt_path):
    """A train_phones.py checkpoint -> (model in eval mode, its phone inventory)."""
    ck = torch.load(ckpt_path, map_location="cpu")
    model = build_phone_model(len(ck["inventory"]))
    model.load_state_dict(ck["model"])
    return model.eval(), ck["inventory"]


def load_rows(index, corpus_dir):
    """Train and dev rows that have a transcript: (path, text, voice, speaker, split)."""
    texts = read_transcripts(corpus_dir)
    rows = []
    for r in csv.DictReader(open(index), delimiter="\t"):
        if r["split"] in ("train", "dev") and r["path"] in texts:
            text, voice = texts[r["path"]]
            rows.append((r["path"], text, voice, r["speaker"], r["split"]))
    return rows


def phonemise_all(rows, cache_path, jobs=2):
    """{(text, voice): phones} for every row; espeak-ng runs once per text, its answers kept in `cache_path`."""
    cache = {}
    if os.path.exists(cache_path):
        for line in open(cache_path, encoding="utf-8"):
            voice, text, phones = line.rstrip("\n").split("\t")
            cache[(text, voice)] = phones.split()
    todo = sorted({(text, voice) for _, text, voice, _, _ in rows} - set(cache))
    with ThreadPoolExecutor(jobs) as ex:
        seqs = list(ex.map(lambda k: text_to_phones(*k), todo))
    with open(cache_path, "a", encoding="utf-8") as f:
        for (text, voice), seq in zip(todo, seqs):
            f.write(f"{voice}\t{text}\t{' '.join(seq)}\n")
            cache[(text, voice)] = seq
    return cache


def greedy(logp_row, blank):
    """Log-posteriors [T, V] -> phone ids (the ASR recipe's CTC collapse)."""
    return ASR_MODEL.ctc_collapse(logp_row.argmax(-1).tolist(), blank)


def phone_error_rate(model, data, blank, limit=600):
    model.eval()
    errs = total = 0
    with torch.no_grad():
        for feats, target, _ in data[:limit]:
            f = feats.float().T[None]
            lp, _ = model(f, torch.tensor([f.shape[2]]))
            errs += edit_distance(greedy(lp[0], blank), target)
            total += len(target)
    return errs / max(1, total)


def make_batch(data, idxs, rnd):
    feats, targets, flen, tlen = [], [], [], []
    for i in idxs:
        f, tgt, _ = data[i]
        f = f.float()
        tempo = rnd.uniform(0.85, 1.15)
        T = max(8, int(round(f.shape[0] / tempo)))
        if T != f.shape[0]:
            f = torch.nn.functional.interpolate(f.T[None], size=T, mode="linear", align_corners=False)[0].T
        feats.append(spec_masks(augment(f, rnd).clone(), rnd, max_time=15, max_time_frac=0.1))
        targets.append(torch.tensor(tgt, dtype=torch.long))
        flen.append(T)
        tlen.append(len(tgt))
    Tm = max(flen)
    x = torch.zeros(len(idxs), 80, Tm)
    for k, f in enumerate(feats):
        x[k, :, : f.shape[0]] = f.T
    return x, torch.tensor(flen), torch.cat(targets), torch.tensor(tlen)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", default=os.path.join(HERE, "work", "corpus", "index.tsv"))
    ap.add_argument("--ckpt-dir", default=os.path.join(HERE, "work", "ckpt-phones"))
    ap.add_argument("--minutes", type=float, default=40)
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=23)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rnd = random.Random(args.seed)
    corpus_dir = os.path.dirname(os.path.abspath(args.index))
    rows = load_rows(args.index, corpus_dir)
    t0 = time.time()
    seqs = phonemise_all(rows, os.path.join(corpus_dir, "phones_cache.tsv"))
    inventory = build_inventory([seqs[(t, v)] for _, t, v, _, _ in rows], MIN_PHONE_COUNT)
    pid = {p: i for i, p in enumerate(inventory)}
    blank = len(inventory)
    print(f"{len(rows)} utterances with text, {len(seqs)} distinct texts phonemised in {time.time() - t0:.0f} s; "
          f"{len(inventory)} phones: {' '.join(inventory)}", flush=True)

    fbank = TorchFbank()
    data = {"train": [], "dev": []}
    with torch.no_grad():
        for path, text, voice, spk, split in rows:
            x = trim(read_wav(path))
            if not int(0.4 * 8000) <= x.size <= MAX_SECONDS * 8000:
                continue
            tgt = [pid[p] for p in seqs[(text, voice)] if p in pid]
            if len(tgt) < 2:
                continue
            w = torch.from_numpy(x.astype(np.float32) / 32768.0)[None]
            feats, _ = fbank(w, torch.tensor([w.shape[1]]))
            if len(tgt) > feats.shape[1] // 2 - 2:  # CTC needs an output frame per phone
                continue
            data[split].append((feats[0].half(), tgt, spk))
    hours = sum(f.shape[0] for f, _, _ in data["train"]) / 100 / 3600
    print(f"train {len(data['train'])} utterances ({hours:.1f} h), dev {len(data['dev'])}", flush=True)
    rnd.shuffle(data["dev"])

    by_speaker = collections.defaultdict(list)
    for i, (_, _, spk) in enumerate(data["train"]):
        by_speaker[spk].append(i)
    speakers = sorted(by_speaker)

    model = build_phone_model(len(inventory))
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    os.makedirs(args.ckpt_dir, exist_ok=True)
    last = os.path.join(args.ckpt_dir, "last.pt")
    step, best, spent = 0, float("inf"), 0.0
    if os.path.exists(last):
        ck = torch.load(last, map_location="cpu")
        assert ck["inventory"] == inventory, "phone inventory changed since last.pt; use a new --ckpt-dir"
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, best, spent = ck["step"], ck["best"], ck["spent"]
        print(f"resumed at step {step}", flush=True)
    ctc = torch.nn.CTCLoss(blank=blank, zero_infinity=True)
    budget = args.minutes * 60
    start = time.time() - spent
    last_save = time.time()
    losses = []

    def save(path, per, **extra):
        torch.save({"model": model.state_dict(), "inventory": inventory, "step": step, "per": per, "cfg": model.cfg,
                    "asr_onnx": os.path.relpath(ASR_ONNX, HERE), **extra}, path)

    while time.time() - start < budget:
        model.eval()  # batch norms keep the ASR model's statistics; dropout is 0
        elapsed = time.time() - start
        frac = elapsed / budget
        lr = args.lr * min(1.0, (step + 1) / args.warmup) * (0.5 * (1 + math.cos(math.pi * min(1.0, frac))) * 0.95 + 0.05)
        for g in opt.param_groups:
            g["lr"] = lr
        idxs = [rnd.choice(by_speaker[rnd.choice(speakers)]) for _ in range(args.batch)]
        x, flen, targets, tlen = make_batch(data["train"], idxs, rnd)
        lp, olen = model(x, flen)
        loss = ctc(lp.transpose(0, 1), targets, olen, tlen)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        losses.append(float(loss))
        if step % 50 == 0:
            print(f"step {step} loss {np.mean(losses[-50:]):.3f} lr {lr:.2e} {elapsed / 60:.1f} min", flush=True)
        if time.time() - last_save > 300:
            per = phone_error_rate(model, data["dev"], blank, limit=300)
            print(f"step {step} dev PER {100 * per:.1f}%", flush=True)
            if per < best:
                best = per
                save(os.path.join(args.ckpt_dir, "best.pt"), per)
            save(last, per, opt=opt.state_dict(), best=best, spent=time.time() - start)
            last_save = time.time()
    per = phone_error_rate(model, data["dev"], blank, limit=300)
    print(f"done: step {step} dev PER {100 * per:.1f}% (best before {100 * best:.1f}%)", flush=True)
    save(last, per, opt=opt.state_dict(), best=min(best, per), spent=time.time() - start)
    if per < best:
        save(os.path.join(args.ckpt_dir, "best.pt"), per)


if __name__ == "__main__":
    main()
