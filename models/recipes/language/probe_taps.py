"""Probe: which layer of the English ASR encoder tells languages apart on speakers it never heard?

For every utterance, the mean and standard deviation over time of the activations at each tap of the frozen ASR
encoder (`models/asr-en-telephony/model.onnx`), and of the utterance-mean-normalised log-mels ("mel") for
comparison; a linear classifier per tap on (up to 6,000 of) the training utterances of the index, each speaker
weighted equally; accuracy on the dev split, and on the held-out speakers per utterance / per call of 5
(language level). A measurement, not part of the model:

    /usr/bin/python3 probe_taps.py [index.tsv]   # default work/corpus/index.tsv
"""
import os, sys, random, collections
import numpy as np, torch
L = os.path.dirname(os.path.abspath(__file__)); A = os.path.join(L, "..", "asr")
sys.path.insert(0, L); sys.path.append(A)
from labels import CLASSES, LANGUAGE_OF, LANGUAGES
from train import load_split
import importlib.util
spec = importlib.util.spec_from_file_location("asrmodel", f"{A}/model.py"); am = importlib.util.module_from_spec(spec); spec.loader.exec_module(am)
from warmstart import load_onnx
from features import TorchFbank
torch.set_num_threads(1)
asr = am.CtcModel(**am.STREAMING_CONFIG); load_onnx(asr, os.path.join(L, "..", "..", "asr-en-telephony", "model.onnx")); asr.eval()
fb = TorchFbank()
idx = sys.argv[1] if len(sys.argv) > 1 else f"{L}/work/corpus/index.tsv"
def acts(x):
    w = torch.from_numpy(x.astype(np.float32) / 32768.0)[None]
    f, _ = fb(w, torch.tensor([w.shape[1]]))  # [1,T,80]
    feats = f.transpose(1, 2); length = torch.tensor([feats.shape[2]])
    out = {}
    xx = (feats - asr.feat_mean[None, :, None]) / asr.feat_std[None, :, None]
    cm = feats[0].T - feats[0].T.mean(0)
    out["mel"] = cm.T[None]
    olen = length // 2
    h = torch.relu(asr.c1(xx)); m = asr.time_mask(olen, h.shape[2])
    for i, b in enumerate(asr.blocks):
        h = b(h, m); out[f"b{i}"] = h
    h = torch.relu(asr.c2(h)); out["c2"] = h
    h = torch.relu(asr.c3(h)); out["c3"] = h
    out["lp"] = torch.log_softmax(asr.out(h), dim=1)
    return {k: torch.cat([v[0].mean(1), v[0].std(1)]).numpy() for k, v in out.items()}
splits = {}
for sp in ["train", "dev", "heldout"]:
    items = load_split(idx, sp)
    if sp == "train":
        random.Random(0).shuffle(items); items = items[:6000]
    with torch.no_grad():
        F = [acts(it[0]) for it in items]
    splits[sp] = (items, F)
    print(sp, len(items), flush=True)
keys = list(splits["train"][1][0].keys())
def fit(key, Xtr, masks, spk):
    mu, sd = Xtr.mean(0), Xtr.std(0) + 1e-5
    X = torch.tensor((Xtr - mu) / sd, dtype=torch.float32); M = torch.tensor(masks)
    # weight: each (speaker) unit equal within class
    cnt = collections.Counter(spk); w = torch.tensor([1.0 / cnt[s] for s in spk]); w = w / w.sum() * len(w)
    lin = torch.nn.Linear(X.shape[1], len(CLASSES)); opt = torch.optim.Adam(lin.parameters(), 1e-2, weight_decay=1e-4)
    for ep in range(300):
        lp = torch.log_softmax(lin(X), 1)
        loss = -(torch.logsumexp(lp + torch.log(M + 1e-12), 1) * w).mean()
        opt.zero_grad(); loss.backward(); opt.step()
    return lambda Z: torch.log_softmax(lin(torch.tensor((Z - mu) / sd, dtype=torch.float32)), 1).detach().numpy()
def lang_of(lp):
    p = np.exp(lp); return LANGUAGES[int(np.argmax([sum(p[i] for i, c in enumerate(CLASSES) if LANGUAGE_OF[c] == l) for l in LANGUAGES]))]
for key in keys:
    tr_items, tr_F = splits["train"]
    f = fit(key, np.stack([x[key] for x in tr_F]), np.stack([it[1] for it in tr_items]), [it[2] for it in tr_items])
    dv_items, dv_F = splits["dev"]
    lp = f(np.stack([x[key] for x in dv_F]))
    dev_acc = np.mean([lang_of(l) == LANGUAGE_OF[CLASSES[int(np.argmax(it[1]))]] for l, it in zip(lp, dv_items)])
    ho_items, ho_F = splits["heldout"]
    lp = f(np.stack([x[key] for x in ho_F]))
    by = collections.defaultdict(list)
    for l, it in zip(lp, ho_items): by[it[2]].append(l)
    out = []
    for s, ls in sorted(by.items()):
        true = LANGUAGE_OF[CLASSES[int(np.argmax([it[1] for it in ho_items if it[2] == s][0]))]]
        u = np.mean([lang_of(l) == true for l in ls])
        r = random.Random(1); ls2 = ls[:]; r.shuffle(ls2)
        calls = [np.mean(ls2[i:i + 5], 0) for i in range(0, len(ls2) - 4, 5)]
        c = np.mean([lang_of(l) == true for l in calls])
        out.append(f"{s.split('-')[1]} {100*u:.0f}/{100*c:.0f}")
    print(f"{key:4s} dev {100*dev_acc:.0f}  " + "  ".join(out), flush=True)
