"""Export the trained model to ONNX (fp32 + weight-int8), tokens.txt and manifest.json."""
import argparse, copy, datetime, json, os, sys
import numpy as np
import torch
import onnx
from onnx import helper, numpy_helper, TensorProto

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import CtcModel, StreamingCtc, VOCAB, BLANK
from corpus import load
from fuse_int8 import fuse_int8_rescale
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


def quantize_static_gemm(src, dst, ranges):
    """INT8 for the streaming graph: every Gemm with a weight initializer becomes
    QuantizeLinear (activations uint8, fixed scale and zero point from calibration) -> MatMulInteger
    (weights int8, symmetric, per output column) -> Cast -> Mul (scales) -> Add (bias); fuse_int8.py then writes
    each of those as one MatMulIntegerToFloat.
    Fixed activation scales keep every stream's output independent of the rest of the batch and of how the
    audio is cut into windows (a dynamic, per-pass scale would not)."""
    m = onnx.load(src)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    gemms = [n for n in g.node if n.op_type == "Gemm" and n.input[1] in inits]
    assert len(gemms) == len(ranges), (len(gemms), len(ranges))
    new_nodes, k = [], 0
    for node in g.node:
        if not (node.op_type == "Gemm" and node.input[1] in inits):
            new_nodes.append(node)
            continue
        attrs = {a.name: a for a in node.attribute}
        assert all(attrs[a].f == 1.0 for a in ("alpha", "beta") if a in attrs)
        assert "transA" not in attrs or attrs["transA"].i == 0
        w = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)
        if "transB" in attrs and attrs["transB"].i == 1:
            w = w.T
        lo, hi = ranges[k]
        k += 1
        lo, hi = min(lo, 0.0), max(hi, 0.0)
        xs = max(hi - lo, 1e-8) / 255.0
        xz = int(np.clip(round(-lo / xs), 0, 255))
        amax = np.abs(w).max(axis=0)
        ws = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
        q = np.clip(np.round(w / ws[None, :]), -127, 127).astype(np.int8)
        base = node.input[1]
        name = node.name or base
        g.initializer.remove(inits[base])
        g.initializer.extend([
            numpy_helper.from_array(q, base + "_q"),
            numpy_helper.from_array(np.array(xs, np.float32), base + "_xs"),
            numpy_helper.from_array(np.array(xz, np.uint8), base + "_xz"),
            numpy_helper.from_array((ws * np.float32(xs)).astype(np.float32), base + "_scale"),
        ])
        out = node.output[0]
        new_nodes += [
            helper.make_node("QuantizeLinear", [node.input[0], base + "_xs", base + "_xz"], [name + "_xq"], name=name + "_quant"),
            helper.make_node("MatMulInteger", [name + "_xq", base + "_q", base + "_xz"], [name + "_i32"], name=name + "_matmul"),
            helper.make_node("Cast", [name + "_i32"], [name + "_f"], name=name + "_cast", to=TensorProto.FLOAT),
            helper.make_node("Mul", [name + "_f", base + "_scale"], [name + "_scaled" if len(node.input) > 2 else out],
                             name=name + "_mul"),
        ]
        if len(node.input) > 2 and node.input[2]:
            new_nodes.append(helper.make_node("Add", [name + "_scaled", node.input[2]], [out], name=name + "_bias"))
    del g.node[:]
    g.node.extend(new_nodes)
    onnx.checker.check_model(m)
    onnx.save(m, dst)
    return k


def calibration_ranges(s, n_max=120):
    """Input range of every matrix product of the streaming graph over real training prompts (whole passes)."""
    (c1, c2, c3), (t1, t2, t3) = s.cache_shapes()
    audio, _, _ = load(os.path.join(HERE, "work", "corpus", "real_train.npz"))
    s.calibration = []
    with torch.no_grad():
        for x in audio[:n_max]:
            f = torch.from_numpy(F.fbank_np(x.astype(np.float32) / 32768.0).T.copy())[None]
            T = f.shape[2] - f.shape[2] % 2
            s(f[:, :, :T], torch.tensor([T]), torch.zeros(1, c1, c2, c3), torch.zeros(1, t1, t2, t3),
              torch.zeros(1, dtype=torch.int64))
    ranges, s.calibration = s.calibration, None
    return ranges


def set_meta(path, meta):
    m = onnx.load(path)
    del m.metadata_props[:]
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, str(v)
    onnx.save(m, path)


DATA_DESCRIPTION = (
    "Asterisk core-sounds-en prompts (heldout_real.txt excluded) and 6 pseudo-speakers of each (sox pitch and vocal-tract "
    "shifts, -700..+400 cents, tempo 0.85-1.15); synthetic speech of template-generated hotline text by espeak-ng accents "
    "en-us, en-gb, en-us-nyc, en-gb-x-rp, en-gb-x-gbclan, en-gb-x-gbcwmd (45 variants), flite kal, kal16, awb, rms (with "
    "pseudo-speakers of f0 0.7-1.6x and duration 0.8-1.25x, and 35% raised towards a female voice: f0 1.2-1.5x, then "
    "pitch and formants up 250-450 cents by sox), festival kal_diphone; half of the rendered audio through a "
    "codec round trip in ffmpeg (GSM, G.726, G.722, G.723.1, Opus, Speex, codec2); on the fly: speed 0.8-1.2, band-pass, "
    "reverberation, noise (white/pink/brown/hum, babble, hold music from asterisk-moh-opsound-wav) at 5-20 dB SNR, "
    "G.711 mu/A-law; SpecAugment. Never trained on: the speaker slt (flite, festival HTS), festival kdl, espeak-ng "
    "en-029 and en-gb-scotland, variants +f3/+m5")

STREAM_WINDOW = 24  # frames per window in the graph's metadata (sherpa-onnx's window_size); the graph takes any even T


def export_streaming(model, a):
    """The cache-aware graph (sherpa-onnx online NeMo CTC layout), checked against the whole-utterance pass."""
    s = StreamingCtc(model).eval()
    (c1, c2, c3), (t1, t2, t3) = s.cache_shapes()
    n = 2
    x = torch.randn(n, 80, STREAM_WINDOW) * 3 - 9
    args = (x, torch.full((n,), STREAM_WINDOW, dtype=torch.int64), torch.zeros(n, c1, c2, c3),
            torch.zeros(n, t1, t2, t3), torch.zeros(n, dtype=torch.int64))
    inputs = ["audio_signal", "length", "cache_last_channel", "cache_last_time", "cache_last_channel_len"]
    outputs = ["logprobs", "logprobs_length", "cache_last_channel_next", "cache_last_time_next",
               "cache_last_channel_len_next"]
    fp32 = os.path.join(a.out, "model.streaming.onnx")
    int8 = os.path.join(a.out, "model.streaming.int8.onnx")
    dyn = {"audio_signal": {0: "N", 2: "T"}, "length": {0: "N"}, "logprobs": {0: "N", 1: "T'"},
           "logprobs_length": {0: "N"}}
    for name in inputs[2:] + outputs[2:]:
        dyn[name] = {0: "N"}
    torch.onnx.export(s, args, fp32, opset_version=13, input_names=inputs, output_names=outputs,
                      dynamic_axes=dyn, do_constant_folding=True)
    meta = {"vocab_size": len(VOCAB) - 1, "subsampling_factor": 2, "normalize_type": "",
            "model_type": "EncDecCTCModel", "model_author": "callscribe",
            "comment": "asr-en-telephony cache-aware streaming graph; vocab_size excludes the blank (NeMo convention)",
            "sample_rate": F.SR, "feat_dim": 80, "window_size": STREAM_WINDOW, "chunk_shift": STREAM_WINDOW,
            "cache_last_channel_dim1": c1, "cache_last_channel_dim2": c2, "cache_last_channel_dim3": c3,
            "cache_last_time_dim1": t1, "cache_last_time_dim2": t2, "cache_last_time_dim3": t3}
    set_meta(fp32, meta)
    nq = quantize_static_gemm(fp32, int8, calibration_ranges(s))
    print(f"streaming int8: {nq} matrix products quantized (activation ranges from real training prompts)")
    nf = fuse_int8_rescale(int8, int8)
    print(f"streaming int8: {nf} matrix products fused with their rescaling (MatMulIntegerToFloat)")
    # chained windows from zero caches must equal the whole-utterance pass. Checked in float64, where the two
    # orders of summation agree to rounding (in float32 they differ by about 1e-6 of the log-probs' magnitude,
    # which grows with depth and is no streaming error)
    m64 = copy.deepcopy(model).double().eval()
    s64 = StreamingCtc(m64).eval()
    T = 317
    x = torch.randn(1, 80, T, dtype=torch.float64) * 3 - 9
    with torch.no_grad():
        whole, _ = m64(x, torch.tensor([T]))
        cc, ct = torch.zeros(1, c1, c2, c3, dtype=torch.float64), torch.zeros(1, t1, t2, t3, dtype=torch.float64)
        cl = torch.zeros(1, dtype=torch.int64)
        outs = []
        for p in range(0, T - T % 2, STREAM_WINDOW):
            chunk = x[:, :, p:p + STREAM_WINDOW]
            k = chunk.shape[2] - chunk.shape[2] % 2
            o, _, cc, ct, cl = s64(chunk[:, :, :k], torch.tensor([k]), cc, ct, cl)
            outs.append(o)
        diff = float((torch.cat(outs, 1) - whole[:, :T // 2]).abs().max())
    print(f"streaming graph (float64): chained windows vs whole pass max |diff| {diff:.2e}")
    assert diff < 1e-9, diff
    tensor = lambda name, dtype, shape: {"name": name, "dtype": dtype, "shape": shape}
    return {
        "type": "cache-aware",
        "files": {"fp32": "model.streaming.onnx", "int8": "model.streaming.int8.onnx"},
        "inputs": [tensor("audio_signal", "float32", ["N", 80, "T"]), tensor("length", "int64", ["N"]),
                   tensor("cache_last_channel", "float32", ["N", c1, c2, c3]),
                   tensor("cache_last_time", "float32", ["N", t1, t2, t3]),
                   tensor("cache_last_channel_len", "int64", ["N"])],
        "outputs": [tensor("logprobs", "float32", ["N", "T'", len(VOCAB)]), tensor("logprobs_length", "int64", ["N"]),
                    tensor("cache_last_channel_next", "float32", ["N", c1, c2, c3]),
                    tensor("cache_last_time_next", "float32", ["N", t1, t2, t3]),
                    tensor("cache_last_channel_len_next", "int64", ["N"])],
        "states": [{"input": "cache_last_channel", "output": "cache_last_channel_next"},
                   {"input": "cache_last_time", "output": "cache_last_time_next"},
                   {"input": "cache_last_channel_len", "output": "cache_last_channel_len_next"}],
        "lookaheadFrames": 0,
        "layout": "time-major: cache_last_channel is [N, 1, frames, mel bins], cache_last_time [N, 1, frames of all layers, channels]",
        "note": (f"causal: every conv is padded on the left, so a window's output depends on no later frame. Feed "
                 f"T new frames (T even; metadata window_size {STREAM_WINDOW}) with the caches the previous window "
                 f"returned (zeros at the start of an utterance): cache_last_channel holds the first conv's last "
                 f"{c2} normalised input frames, cache_last_time the last dilation*(k-1) input frames of each later "
                 f"depthwise conv, layer after layer along its time axis ({t2} frames), cache_last_channel_len counts "
                 f"output frames. The T/2 output frames are final: chained windows equal the whole-utterance pass "
                 f"of model.onnx (checked at export)."),
    }


def warm_start_description(args):
    """Provenance of a warm-started checkpoint (train.py --init-onnx, --new-blocks)."""
    text = ("continued from the weights of the previously published model.onnx (" + args["init_onnx"].split("/")[-1]
            + "), loaded back by warmstart.py; what that model was trained on is in these weights too")
    if args.get("new_blocks"):
        text += ("; residual blocks " + args["new_blocks"].replace(",", " and ") + " were added to it, starting as the "
                 "identity (warmstart.load_onnx_grown), so training began from exactly that model's output")
    return text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(HERE, "work", "ckpt", "last.pt"))
    ap.add_argument("--out", default=OUT_DEFAULT)
    ap.add_argument("--int8-depthwise", type=int, default=1, help="also quantize depthwise conv weights")
    ap.add_argument("--version", default="2.0.0")
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
    rf_left, rf_right = model.receptive_field()
    meta = {"vocab_size": len(VOCAB), "subsampling_factor": 2, "normalize_type": "", "model_type": "EncDecCTCModel",
            "model_author": "callscribe", "comment": "asr-en-telephony: 8 kHz char CTC, global normalisation in graph",
            "sample_rate": F.SR, "feat_dim": 80, "receptive_field_left": rf_left, "receptive_field_right": rf_right}
    set_meta(fp32, meta)
    nq, nskip = quantize_int8(fp32, int8, depthwise=bool(a.int8_depthwise))
    print(f"int8: {nq} conv weights quantized, {nskip} depthwise left in fp32")
    streaming = export_streaming(model, a) if model.causal else None
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
        pr = os.path.join(cdir, "pseudo_real.npz")
        if os.path.exists(pr):
            zp = np.load(pr)
            corpus_stats.update({"pseudoSpeakerUtterances": len(zp["offsets"]) - 1,
                                 "pseudoSpeakerMinutes": round(float(zp["offsets"][-1]) / F.SR / 60, 1),
                                 "pseudoSpeakerFractionOfEachBatch": ck["args"].get("pseudo_frac", 0.0)})
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
        # the decoding section (LM, lexicon, search settings) belongs to the decoder: an existing one is kept as it is
        "decoding": old.get("decoding", "greedy CTC: argmax per frame, collapse repeats, drop blank, map \u2581 to space"),
        "subsampling": 2, "outputFrameRate": 50,
        "receptiveField": {"left": rf_left, "right": rf_right, "unit": "input-frames",
                           "note": f"output frame j depends on input frames 2j-{rf_left} .. 2j+{rf_right} (checked by perturbation); to stream this graph exactly, give each chunk {rf_left} frames of context on the left and {rf_right} on the right"},
        "files": {"fp32": "model.onnx", "int8": "model.int8.onnx", "tokens": "tokens.txt"},
        **({"streaming": streaming} if streaming else {}),
        "quantization": {"int8": "weight-only: Conv weights stored as int8 (symmetric, per output channel) + DequantizeLinear; activations float32"
                         + ("" if a.int8_depthwise else "; depthwise conv weights kept in float32")},
        "executionProviders": ["cpu"],
        "onnx": {"opset": 13, "metadata": meta},
        "architecture": {"type": ("causal " if model.causal else "") + "QuartzNet-style depthwise-separable 1-D conv CTC",
                         "params": nparams, **ck["cfg"]},
        "provenance": {
            "data": DATA_DESCRIPTION if ck["args"].get("init_onnx") or ck["args"].get("pseudo_frac") else "synthetic speech (espeak-ng, flite, festival voices) of template-generated hotline text + Asterisk core-sounds-en prompts (heldout_real.txt excluded); telephone channel simulation (8 kHz, G.711 mu/A-law, 300-3400 Hz band-pass, noise 5-20 dB SNR, speed 0.8-1.2), SpecAugment",
            **({"warmStart": warm_start_description(ck["args"])} if ck["args"].get("init_onnx") else {}),
            "recipe": "models/recipes/asr/run.sh",
            "corpus": corpus_stats,
            "steps": ck["step"], "trainingMinutes": round(ck["elapsed"] / 60, 1),
            "audioHoursSeen": round(ck.get("audio_sec", 0) / 3600, 1),
            "date": datetime.date.today().isoformat(),
            "heldOut": old.get("provenance", {}).get("heldOut", {}),
        },
    }
    # sections other parts of the system added to the manifest (and this export does not write) are carried over
    for k, v in old.items():
        if k not in manifest:
            manifest[k] = v
    with open(mpath, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    for p in (fp32, int8):
        print(p, os.path.getsize(p))


if __name__ == "__main__":
    main()
