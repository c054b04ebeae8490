"""Export the trained model to ONNX (fp32 + weight-int8), tokens.txt and manifest.json."""
import argparse, datetime, json, os, sys
import numpy as np
import torch
import onnx
from onnx import helper, numpy_helper, TensorProto

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import CtcModel, VOCAB, BLANK
import features as F

OUT_DEFAULT = os.path.normpath(os.path.join(HERE, "..", "..", "asr-en-telephony"))


class Wrapper(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, audio_signal, length):
        return self.m(audio_signal, length)


def quantize_int8(src, dst, depthwise=True):
    """Weight-only int8: Conv weights -> int8 initializer (symmetric, per output channel)
    + DequantizeLinear(axis=0). Activations stay float32."""
    m = onnx.load(src)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    new_nodes, nq, nskip = [], 0, 0
    for node in g.node:
        if node.op_type == "Conv" and len(node.input) >= 2 and node.input[1] in inits:
            w = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)
            group = next((a.i for a in node.attribute if a.name == "group"), 1)
            is_dw = group > 1
            if is_dw and not depthwise:
                nskip += 1
                new_nodes.append(node)
                continue
            amax = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
            scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
            q = np.clip(np.round(w / scale.reshape(-1, *([1] * (w.ndim - 1)))), -127, 127).astype(np.int8)
            base = node.input[1]
            g.initializer.remove(inits[base])
            g.initializer.extend([numpy_helper.from_array(q, base + "_q"),
                                  numpy_helper.from_array(scale, base + "_scale"),
                                  numpy_helper.from_array(np.zeros(w.shape[0], np.int8), base + "_zp")])
            new_nodes.append(helper.make_node("DequantizeLinear", [base + "_q", base + "_scale", base + "_zp"],
                                              [base + "_dq"], name=base + "_DequantizeLinear", axis=0))
            node.input[1] = base + "_dq"
            nq += 1
        new_nodes.append(node)
    del g.node[:]
    g.node.extend(new_nodes)
    onnx.checker.check_model(m)
    onnx.save(m, dst)
    return nq, nskip


def set_meta(path, meta):
    m = onnx.load(path)
    del m.metadata_props[:]
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, str(v)
    onnx.save(m, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(HERE, "work", "ckpt", "last.pt"))
    ap.add_argument("--out", default=OUT_DEFAULT)
    ap.add_argument("--int8-depthwise", type=int, default=1, help="also quantize depthwise conv weights")
    ap.add_argument("--version", default="1.0.0")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    ck = torch.load(a.ckpt, map_location="cpu")
    model = CtcModel(**ck["cfg"])
    model.load_state_dict(ck["model"])
    model.eval()
    w = Wrapper(model)
    x = torch.randn(2, 80, 123) * 3 - 9
    L = torch.tensor([123, 77], dtype=torch.int64)
    fp32 = os.path.join(a.out, "model.onnx")
    int8 = os.path.join(a.out, "model.int8.onnx")
    torch.onnx.export(w, (x, L), fp32, opset_version=13, input_names=["audio_signal", "length"],
                      output_names=["logprobs", "logprobs_length"],
                      dynamic_axes={"audio_signal": {0: "N", 2: "T"}, "length": {0: "N"},
                                    "logprobs": {0: "N", 1: "T'"}, "logprobs_length": {0: "N"}},
                      do_constant_folding=True)
    rf = model.receptive_field()
    meta = {"vocab_size": len(VOCAB), "subsampling_factor": 2, "normalize_type": "", "model_type": "EncDecCTCModel",
            "model_author": "callscribe", "comment": "asr-en-telephony: 8 kHz char CTC, global normalisation in graph",
            "sample_rate": F.SR, "feat_dim": 80, "receptive_field_left": rf, "receptive_field_right": rf}
    set_meta(fp32, meta)
    nq, nskip = quantize_int8(fp32, int8, depthwise=bool(a.int8_depthwise))
    print(f"int8: {nq} conv weights quantized, {nskip} depthwise left in fp32")
    with open(os.path.join(a.out, "tokens.txt"), "w", encoding="utf-8") as f:
        for i, t in enumerate(VOCAB):
            f.write(f"{t} {i}\n")
    mpath = os.path.join(a.out, "manifest.json")
    old = json.load(open(mpath)) if os.path.exists(mpath) else {}
    nparams = sum(p.numel() for p in model.parameters())
    corpus_stats = {}
    cdir = os.path.join(HERE, "work", "corpus")
    if os.path.isdir(cdir):
        import glob
        n, secs = 0, 0.0
        for p in sorted(glob.glob(os.path.join(cdir, "synth_*.npz"))):
            z = np.load(p)
            n += len(z["offsets"]) - 1
            secs += float(z["offsets"][-1]) / F.SR
        zr = np.load(os.path.join(cdir, "real_train.npz"))
        corpus_stats = {"syntheticUtterances": n, "syntheticHours": round(secs / 3600, 1),
                        "realTrainPrompts": len(zr["offsets"]) - 1,
                        "realTrainMinutes": round(float(zr["offsets"][-1]) / F.SR / 60, 1),
                        "realFractionOfEachBatch": ck["args"].get("real_frac", 0.3)}
    manifest = {
        "name": "asr-en-telephony", "version": a.version, "task": "asr-ctc", "language": "en", "sampleRate": F.SR,
        "features": {
            "type": "log-mel-fbank", "dim": 80, "windowMs": 25, "hopMs": 10, "windowSamples": F.FRAME_LEN,
            "hopSamples": F.FRAME_SHIFT, "nFft": F.NFFT, "window": "hann", "windowPeriodic": True,
            "windowFormula": "w[i] = 0.5 - 0.5*cos(2*pi*i/200), i = 0..199",
            "sampleScale": "int16 / 32768 (samples in [-1, 1))",
            "preemphasis": F.PREEMPH,
            "preemphasisScope": "per frame, after framing: y[i] = x[i] - 0.97*x[i-1] for i >= 1, y[0] = x[0] - 0.97*x[0]",
            "dither": 0, "removeDcOffset": False, "melLowHz": 0, "melHighHz": 4000, "melBins": 80,
            "melScale": "slaney", "melNorm": "slaney",
            "melFilter": "knf/librosa style: 82 mel points equally spaced on the Slaney scale over [0, 4000] Hz; filter b has (left, center, right) = points b, b+1, b+2 converted to Hz; FFT bin k (f = k*31.25 Hz, k = 0..128) gets weight (f-l)/(c-l) if f <= c else (r-f)/(r-c), only where l < f < r strictly; multiplied by 2/(r-l)",
            "power": "|X|^2 (power spectrum, no 1/N scaling)",
            "logFloor": F.LOG_FLOOR, "logFloorDescription": "log(max(melEnergy, FLT_EPSILON = 1.1920928955078125e-07))",
            "log": "natural", "snipEdges": False,
            "numFrames": "floor((numSamples + 40) / 80)",
            "framing": "frame f covers samples 80*f - 60 .. 80*f + 139; indices < 0 map to -i-1, indices >= N map to 2N-1-i (reflection)",
            "centerPadding": False,
            "normalization": "global-in-graph",
            "normalizationStats": {"mean": [round(float(v), 6) for v in model.feat_mean],
                                   "std": [round(float(v), 6) for v in model.feat_std],
                                   "note": "applied inside the ONNX graph as (x - mean) / std per mel bin; do not normalise again"},
            "matches": "sherpa-onnx OfflineRecognizer featConfig for NeMo CTC models (kaldi-native-fbank, is_librosa=true, window hann, low 0, high 0=Nyquist, no dc removal, dither 0, snip_edges false)",
            "paddingValue": "padded frames may hold any value; the graph masks frames >= length",
            "referenceImplementation": "models/recipes/asr/features.py (fbank_np)",
        },
        "inputs": [{"name": "audio_signal", "dtype": "float32", "shape": ["N", 80, "T"], "layout": "log-mel, channel-major (mel bins x frames)"},
                   {"name": "length", "dtype": "int64", "shape": ["N"], "description": "valid frames per sequence"}],
        "outputs": [{"name": "logprobs", "dtype": "float32", "shape": ["N", "T'", len(VOCAB)], "description": "log_softmax over tokens; T' = ceil(T/2)"},
                    {"name": "logprobs_length", "dtype": "int64", "shape": ["N"], "description": "floor(length / 2); frames beyond are padding"}],
        "vocabulary": {"file": "tokens.txt", "size": len(VOCAB), "blankId": BLANK, "spaceToken": "\u2581",
                       "tokens": VOCAB},
        "decoding": "greedy CTC: argmax per frame, collapse repeats, drop blank, map \u2581 to space",
        "subsampling": 2, "outputFrameRate": 50,
        "receptiveField": {"left": rf, "right": rf, "unit": "input-frames",
                           "note": f"symmetric: output frame j depends on input frames 2j-{rf} .. 2j+{rf} (checked by perturbation); to stream exactly, give each chunk {rf} frames of context on both sides"},
        "files": {"fp32": "model.onnx", "int8": "model.int8.onnx", "tokens": "tokens.txt"},
        "quantization": {"int8": "weight-only: Conv weights stored as int8 (symmetric, per output channel) + DequantizeLinear; activations float32"
                         + ("" if a.int8_depthwise else "; depthwise conv weights kept in float32")},
        "executionProviders": ["cpu"],
        "onnx": {"opset": 13, "metadata": meta},
        "architecture": {"type": "QuartzNet-style depthwise-separable 1-D conv CTC", "params": nparams, **ck["cfg"]},
        "provenance": {
            "data": "synthetic speech (espeak-ng, flite, festival voices) of template-generated hotline text + Asterisk core-sounds-en prompts (heldout_real.txt excluded); telephone channel simulation (8 kHz, G.711 mu/A-law, 300-3400 Hz band-pass, noise 5-20 dB SNR, speed 0.8-1.2), SpecAugment",
            "recipe": "models/recipes/asr/run.sh",
            "corpus": corpus_stats,
            "steps": ck["step"], "trainingMinutes": round(ck["elapsed"] / 60, 1),
            "audioHoursSeen": round(ck.get("audio_sec", 0) / 3600, 1),
            "date": datetime.date.today().isoformat(),
            "heldOut": old.get("provenance", {}).get("heldOut", {}),
        },
    }
    with open(mpath, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    for p in (fp32, int8):
        print(p, os.path.getsize(p))


if __name__ == "__main__":
    main()
