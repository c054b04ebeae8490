"""Greedy WER/CER of a training checkpoint (or a published model.onnx loaded back) in torch, on the held-out sets'
features that eval.py cached in work/eval/ (quick check while training; the published figures come from eval.py)."""
import argparse, json, os, sys
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import CtcModel, STREAMING_CONFIG, decode_greedy
from eval import score, EVAL_DIR


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(HERE, "work", "ckpt", "last.pt"))
    ap.add_argument("--onnx", default="", help="score this model.onnx instead of a checkpoint")
    ap.add_argument("--sets", default="real,voices")
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.onnx:
        from warmstart import load_onnx
        m = load_onnx(CtcModel(**STREAMING_CONFIG), a.onnx)
        tag = a.onnx
    else:
        ck = torch.load(a.ckpt, map_location="cpu")
        m = CtcModel(**ck["cfg"])
        m.load_state_dict(ck["model"])
        tag = f"{a.ckpt} step {ck['step']}"
    m.eval()
    refs_by_set = {}
    for name in a.sets.split(","):
        idx = json.load(open(os.path.join(EVAL_DIR, name + ".index.json")))["items"]
        feats = np.fromfile(os.path.join(EVAL_DIR, name + ".f32"), dtype="<f4")
        from corpus import load
        from eval import SETS
        folder, fname = SETS[name]
        _, texts, _ = load(os.path.join(HERE, "work", folder, fname))
        off, hyps = 0, []
        with torch.no_grad():
            for it in idx:
                T = it["frames"]
                f = torch.from_numpy(feats[off:off + 80 * T].reshape(1, 80, T).copy())
                off += 80 * T
                lp, ol = m(f, torch.tensor([T]))
                hyps.append(decode_greedy(lp[0, :int(ol[0])].argmax(-1).tolist()))
        s = score([str(t) for t in texts], hyps)
        print(f"{tag} [{name}] {s}", flush=True)


if __name__ == "__main__":
    main()
