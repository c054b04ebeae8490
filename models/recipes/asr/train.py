"""Train the telephony CTC model. Time-budgeted, resumable (rerun picks up work/ckpt/last.pt)."""
import argparse, glob, json, math, os, random, sys, time
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from corpus import load
from features import TorchFbank, SR
from channel import telephone
from model import CtcModel, STREAMING_CONFIG, encode, decode_greedy, BLANK

MAX_SEC = 16.0


class Data:
    def __init__(self, cdir):
        self.cdir = cdir
        self.loaded = set()
        self.synth, self.real, self.pseudo = [], [], []
        self.refresh()

    def refresh(self):
        paths = sorted(glob.glob(os.path.join(self.cdir, "synth_*.npz")))
        new = [p for p in paths if p not in self.loaded]
        for p in new:
            a, t, _ = load(p)
            self.synth += [(x, y) for x, y in zip(a, t) if len(x) <= MAX_SEC * SR and encode(y)]
            self.loaded.add(p)
        if not self.real:
            a, t, _ = load(os.path.join(self.cdir, "real_train.npz"))
            self.real = [(x, y) for x, y in zip(a, t) if len(x) <= MAX_SEC * SR and encode(y)]
        pseudo = os.path.join(self.cdir, "pseudo_real.npz")
        if not self.pseudo and os.path.exists(pseudo):
            a, t, _ = load(pseudo)
            self.pseudo = [(x, y) for x, y in zip(a, t) if len(x) <= MAX_SEC * SR and encode(y)]
            new.append(pseudo)
        return len(new)


def make_batches(data, r, bsz, real_frac, pseudo_frac=0.0):
    """Three batches of similar lengths: real prompts, their pseudo-speakers and synthetic speech in the given
    fractions (a pool not yet rendered gives its share to the real prompts)."""
    n = 3 * bsz
    npseudo = int(round(n * pseudo_frac)) if data.pseudo else 0
    nsynth = n - int(round(n * real_frac)) - int(round(n * pseudo_frac)) if data.synth else 0
    nreal = n - npseudo - nsynth
    cands = [("r", data.real[r.randrange(len(data.real))]) for _ in range(nreal)]
    cands += [("p", data.pseudo[r.randrange(len(data.pseudo))]) for _ in range(npseudo)]
    cands += [("s", data.synth[r.randrange(len(data.synth))]) for _ in range(nsynth)]
    cands.sort(key=lambda c: len(c[1][0]))
    return [cands[i * bsz:(i + 1) * bsz] for i in range(3)]


def prepare(batch, r, fbank, aug=True):
    waves = []
    pool = [torch.from_numpy(c[1][0].astype(np.float32) / 32768.0) for c in batch]
    for (kind, (x, y)), w in zip(batch, pool):
        if aug:
            w = telephone(w, r, others=pool, strong=(kind != "r"))
        waves.append(w)
    lens = torch.tensor([len(w) for w in waves])
    W = torch.zeros(len(waves), int(lens.max()))
    for i, w in enumerate(waves):
        W[i, :len(w)] = w
    with torch.no_grad():
        feats, flen = fbank(W, lens)
    targets = [torch.tensor(encode(c[1][1])) for c in batch]
    return feats.transpose(1, 2).contiguous(), flen, targets


class BatchStream(torch.utils.data.IterableDataset):
    """Endless stream of prepared batches (augmentation + features), run in a worker process."""

    def __init__(self, cdir, bsz, real_frac, seed, pseudo_frac=0.0):
        self.cdir, self.bsz, self.real_frac, self.seed, self.pseudo_frac = cdir, bsz, real_frac, seed, pseudo_frac

    def __iter__(self):
        torch.set_num_threads(1)
        data = Data(self.cdir)
        r = random.Random(self.seed)
        fbank = TorchFbank()
        n = 0
        while True:
            for bt in make_batches(data, r, self.bsz, self.real_frac, self.pseudo_frac):
                feats, flen, targets = prepare(bt, r, fbank)
                secs = float(sum(len(c[1][0]) for c in bt)) / SR
                ex = None
                if n % 50 == 0:
                    exi = data.real[r.randrange(len(data.real))]
                    f, fl, _ = prepare([("r", exi)], r, fbank, aug=False)
                    ex = (f, fl, exi[1])
                yield feats, flen, targets, secs, ex, len(data.synth)
                n += 1
                if n % 100 == 0 or (not data.synth and n % 10 == 0):
                    data.refresh()


def spec_augment(feats, flen, mean, r):
    # feats [B, 80, T]; masked regions set to the global mean (= 0 after in-graph normalisation)
    B, D, T = feats.shape
    for b in range(B):
        L = int(flen[b])
        for _ in range(2):
            w = r.randint(0, 12)
            f0 = r.randint(0, D - w)
            feats[b, f0:f0 + w, :] = mean[f0:f0 + w, None]
        for _ in range(max(1, L // 120)):
            w = r.randint(0, min(20, max(1, L // 10)))
            t0 = r.randint(0, max(0, L - w))
            feats[b, :, t0:t0 + w] = mean[:, None]
    return feats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=os.path.join(HERE, "work", "corpus"))
    ap.add_argument("--ckpt-dir", default=os.path.join(HERE, "work", "ckpt"))
    ap.add_argument("--minutes", type=float, default=75.0, help="training wall-clock budget")
    ap.add_argument("--max-steps", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--real-frac", type=float, default=0.3)
    ap.add_argument("--pseudo-frac", type=float, default=0.0, help="share of each batch from pseudo_real.npz")
    ap.add_argument("--freeze-bn", type=int, default=0,
                    help="1: batch norm keeps its running statistics while training (fine-tuning a warm start)")
    ap.add_argument("--init-onnx", default="", help="warm start from a published model.onnx when no checkpoint exists")
    ap.add_argument("--dilations", default="",
                    help="one dilation per residual block, comma-separated (default: the published model's); with "
                         "--new-blocks, a deeper model than the warm-start graph")
    ap.add_argument("--new-blocks", default="",
                    help="with --init-onnx: comma-separated indices of residual blocks the graph lacks (they start as "
                         "the identity; warmstart.load_onnx_grown)")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--causal", type=int, default=1, help="1: causal convs (cache-aware streaming); 0: symmetric")
    ap.add_argument("--workers", type=int, default=1, help="data/augmentation worker processes (0 = inline)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = cores minus workers, at least 1)")
    a = ap.parse_args()
    if a.dilations and not a.causal:
        sys.exit("--dilations sets the causal model's blocks; it does not apply with --causal 0")
    torch.set_num_threads(a.threads or max(1, (os.cpu_count() or 1) - a.workers))
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    os.makedirs(a.ckpt_dir, exist_ok=True)
    last = os.path.join(a.ckpt_dir, "last.pt")
    r = random.Random(a.seed)
    torch.manual_seed(a.seed)
    data = Data(a.corpus)
    print(f"data: {len(data.synth)} synth, {len(data.real)} real train utterances; device {dev}", flush=True)
    fbank = TorchFbank()
    cfg = dict(STREAMING_CONFIG)
    if a.dilations:
        d = [int(x) for x in a.dilations.split(",")]
        cfg.update(blocks=[cfg["blocks"][0]] * len(d), dilations=d)
    model = CtcModel(**cfg) if a.causal else CtcModel()
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-3)
    step, elapsed, audio_sec = 0, 0.0, 0.0
    if os.path.exists(last):
        ck = torch.load(last, map_location="cpu")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, elapsed, audio_sec = ck["step"], ck["elapsed"], ck.get("audio_sec", 0.0)
        r.setstate(ck["py_rng"])
        print(f"resumed from step {step}, {elapsed / 60:.1f} min", flush=True)
    elif a.init_onnx:
        from warmstart import load_onnx, load_onnx_grown, calibrate_bn
        if a.new_blocks:
            load_onnx_grown(model, a.init_onnx, [int(i) for i in a.new_blocks.split(",")])
        else:
            load_onnx(model, a.init_onnx)
        batches = []
        for _ in range(8):
            for bt in make_batches(data, r, a.batch, a.real_frac, a.pseudo_frac)[:1]:
                f, fl, _ = prepare(bt, r, fbank)
                batches.append((f, fl))
        calibrate_bn(model, batches)
        print(f"warm start from {a.init_onnx} (batch norm calibrated on {len(batches)} batches)", flush=True)
    else:
        # global feature statistics from augmented training audio
        acc, acc2, n = torch.zeros(80, dtype=torch.float64), torch.zeros(80, dtype=torch.float64), 0
        for _ in range(12):
            for bt in make_batches(data, r, a.batch, a.real_frac)[:1]:
                f, fl, _ = prepare(bt, r, fbank)
                for i in range(f.shape[0]):
                    x = f[i, :, :int(fl[i])].double()
                    acc += x.sum(1); acc2 += (x * x).sum(1); n += x.shape[1]
        mean = acc / n
        std = torch.sqrt(acc2 / n - mean * mean).clamp(min=1e-3)
        model.feat_mean.copy_(mean.float()); model.feat_std.copy_(std.float())
        print(f"feature stats from {n} frames: mean {mean.mean():.3f} std {std.mean():.3f}", flush=True)
    model.to(dev)
    for st in opt.state.values():
        for k, v in st.items():
            if torch.is_tensor(v):
                st[k] = v.to(dev)
    ctc = torch.nn.CTCLoss(blank=BLANK, zero_infinity=True)
    budget = a.minutes * 60
    t_last_ck = time.time()
    t0 = time.time() - elapsed
    log_loss, log_n, t_log, a_log = 0.0, 0, time.time(), 0.0
    stream = BatchStream(a.corpus, a.batch, a.real_frac, a.seed * 1000003 + step, a.pseudo_frac)
    if a.workers > 0:
        loader = torch.utils.data.DataLoader(stream, batch_size=None, num_workers=a.workers, prefetch_factor=4,
                                             persistent_workers=False)
    else:
        loader = stream
    last_ex, nsynth = None, len(data.synth)
    for feats, flen, targets, secs, ex, ns in loader:
        elapsed = time.time() - t0
        if elapsed >= budget or step >= a.max_steps:
            break
        if ex is not None:
            last_ex = ex
        if ns != nsynth:
            print(f"data refreshed: {ns} synth utterances", flush=True)
            nsynth = ns
        frac = elapsed / budget
        lr = a.lr * min(1.0, (step + 1) / a.warmup) * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))
        for g in opt.param_groups:
            g["lr"] = lr
        model.train()
        if a.freeze_bn:
            for mod in model.modules():
                if isinstance(mod, torch.nn.BatchNorm1d):
                    mod.eval()
        feats = spec_augment(feats, flen, model.feat_mean.cpu(), r)
        feats, flen = feats.to(dev), flen.to(dev)
        lp, olen = model(feats, flen)
        tl = torch.tensor([len(t) for t in targets])
        loss = ctc(lp.transpose(0, 1), torch.cat(targets).to(dev), olen, tl.to(dev))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        audio_sec += secs; a_log += secs
        log_loss += float(loss); log_n += 1
        if step % 50 == 0:
            dt = time.time() - t_log
            hyp, ref = "", ""
            if last_ex is not None:
                model.eval()
                with torch.no_grad():
                    o, ol = model(last_ex[0].to(dev), last_ex[1].to(dev))
                    hyp, ref = decode_greedy(o[0, :int(ol[0])].argmax(-1).tolist()), last_ex[2]
            print(f"step {step} t {elapsed / 60:.1f}m lr {lr:.2e} loss {log_loss / log_n:.3f} "
                  f"{a_log / dt:.0f} audio-s/s | ref: {ref[:60]} | hyp: {hyp[:60]}", flush=True)
            log_loss, log_n, t_log, a_log = 0.0, 0, time.time(), 0.0
        if time.time() - t_last_ck > 180:
            save(model, opt, step, time.time() - t0, audio_sec, r, last, a)
            t_last_ck = time.time()
    save(model, opt, step, time.time() - t0, audio_sec, r, last, a)
    print(f"training finished: {step} steps, {(time.time() - t0) / 60:.1f} min, {audio_sec / 3600:.1f} h audio seen", flush=True)


def save(model, opt, step, elapsed, audio_sec, r, path, a):
    tmp = path + ".tmp"
    torch.save({"model": {k: v.cpu() for k, v in model.state_dict().items()}, "opt": opt.state_dict(), "step": step,
                "elapsed": elapsed, "audio_sec": audio_sec, "py_rng": r.getstate(), "cfg": model.cfg,
                "args": vars(a)}, tmp)
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
