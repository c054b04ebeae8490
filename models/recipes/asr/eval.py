"""Evaluate exported ONNX models (via onnxruntime-node) and Debian pocketsphinx on the
held-out sets; write scores into manifest provenance and the model README table."""
import argparse, datetime, json, os, subprocess, sys, tempfile, time
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from corpus import load
from features import fbank_np, SR
from levenshtein import edit_distance
from textnorm import normalize

MODEL_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "asr-en-telephony"))
PS_MODEL = "/usr/share/pocketsphinx/model/en-us"
EVAL_DIR = os.path.join(HERE, "work", "eval")
# set -> (folder, file): the held-out Asterisk prompts, and the whole voices held out of training (corpus.py)
SETS = {"real": ("corpus", "heldout_real.npz"), "voices": ("eval", "heldout_voices.npz")}


def score(refs, hyps):
    we = sum(edit_distance(r.split(), h.split()) for r, h in zip(refs, hyps))
    wn = sum(len(r.split()) for r in refs)
    ce = sum(edit_distance(r, h) for r, h in zip(refs, hyps))
    cn = sum(len(r) for r in refs)
    return {"wer": round(100.0 * we / wn, 2), "cer": round(100.0 * ce / cn, 2), "utterances": len(refs), "words": wn}


def prepare_feats(corpus, edir, name):
    fpath, ipath = os.path.join(edir, name + ".f32"), os.path.join(edir, name + ".index.json")
    folder, fname = SETS[name]
    audio, texts, voices = load(os.path.join(corpus if folder == "corpus" else EVAL_DIR, fname))
    # real: prompt names (unique); synthetic: index + voice (voices repeat)
    ids = [str(v) for v in voices] if name == "real" else [f"{k:04d}|{v}" for k, v in enumerate(voices)]
    if not os.path.exists(ipath):
        items = []
        with open(fpath + ".tmp", "wb") as f:
            for x, t, i in zip(audio, texts, ids):
                feats = fbank_np(x.astype(np.float32) / 32768.0)  # [T, 80]
                f.write(np.ascontiguousarray(feats.T).astype("<f4").tobytes())
                items.append({"id": str(i), "frames": int(feats.shape[0]), "samples": int(len(x))})
        os.replace(fpath + ".tmp", fpath)
        json.dump({"items": items, "sampleRate": SR}, open(ipath, "w"))
    return fpath, ipath, audio, [str(t) for t in texts], [str(i) for i in ids]


def run_onnx(model, fpath, ipath, out, bench):
    cmd = ["node", os.path.join(HERE, "eval_onnx.mjs"), "--model", model, "--tokens", os.path.join(MODEL_DIR, "tokens.txt"),
           "--feats", fpath, "--index", ipath, "--out", out, "--bench", "1" if bench else "0", "--threads", "2"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit("eval_onnx.mjs failed:\n" + p.stderr[-3000:])
    print(p.stdout.strip(), flush=True)
    return json.load(open(out))


def run_pocketsphinx(audio, ids, edir, name, limit=0):
    cache = os.path.join(edir, f"pocketsphinx_{name}.json")
    res = json.load(open(cache)) if os.path.exists(cache) else {}
    if limit:
        audio, ids = audio[:limit], ids[:limit]
    todo = [(x, i) for x, i in zip(audio, ids) if i not in res]
    with tempfile.TemporaryDirectory() as td:
        for n, (x, i) in enumerate(todo):
            raw = os.path.join(td, "a.raw")
            wav = os.path.join(td, "a16.wav")
            x.astype("<i2").tofile(raw)
            subprocess.run(["sox", "-t", "raw", "-r", str(SR), "-e", "signed", "-b", "16", "-c", "1", raw,
                            "-r", "16000", wav], check=True)
            p = subprocess.run(["pocketsphinx_continuous", "-infile", wav, "-hmm", PS_MODEL + "/en-us",
                                "-lm", PS_MODEL + "/en-us.lm.bin", "-dict", PS_MODEL + "/cmudict-en-us.dict"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            res[i] = normalize(" ".join(p.stdout.split()))
            if n % 20 == 19:
                json.dump(res, open(cache, "w"))
    json.dump(res, open(cache, "w"))
    return [res[i] for i in ids]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=os.path.join(HERE, "work", "corpus"))
    ap.add_argument("--model-dir", default=MODEL_DIR)
    ap.add_argument("--pocketsphinx", default="real,voices", help="sets to run pocketsphinx on ('' = none)")
    ap.add_argument("--write", type=int, default=1, help="1: write the scores into the model folder's manifest and README")
    ap.add_argument("--tag", default="", help="keep this model's transcripts and results under work/eval/<tag>/")
    ap.add_argument("--bench", type=int, default=1, help="1: measure speed on the real set")
    ap.add_argument("--sets", default=",".join(SETS), help="held-out sets to score")
    ap.add_argument("--only-pocketsphinx", action="store_true")
    ap.add_argument("--ps-max-synth", type=int, default=0, help="run pocketsphinx on only the first N synthetic utterances (0 = all)")
    a = ap.parse_args()
    edir = EVAL_DIR
    odir = os.path.join(edir, a.tag) if a.tag else edir
    os.makedirs(odir, exist_ok=True)
    results = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "sets": {}, "speed": {}}
    # pocketsphinx does not depend on this model: a set it is not run on again keeps its earlier figures
    mpath0 = os.path.join(a.model_dir, "manifest.json")
    previous = json.load(open(mpath0)).get("provenance", {}).get("heldOut", {}) if os.path.exists(mpath0) else {}
    for name in a.sets.split(","):
        fpath, ipath, audio, refs, ids = prepare_feats(a.corpus, edir, name)
        entry = {"utterances": len(refs), "audioMinutes": round(sum(len(x) for x in audio) / SR / 60, 2)}
        old_ps = previous.get("real" if name == "real" else "heldOutVoices", {}).get("pocketsphinx")
        if name not in a.pocketsphinx.split(",") and old_ps:
            entry["pocketsphinx"] = {**old_ps, "note": "from an earlier evaluation of the same held-out set"}
        if name in a.pocketsphinx.split(","):
            t = time.time()
            lim = a.ps_max_synth if name == "voices" else 0
            hyps = run_pocketsphinx(audio, ids, edir, name, lim)
            entry["pocketsphinx"] = score(refs[:len(hyps)], hyps)
            print(f"[{name}] pocketsphinx {entry['pocketsphinx']} ({time.time() - t:.0f}s)", flush=True)
        if not a.only_pocketsphinx:
            # fp32/int8: the graphs the engine runs (the streaming ones when the model has them)
            files = [("fp32", "model.onnx"), ("int8", "model.int8.onnx")]
            if os.path.exists(os.path.join(a.model_dir, "model.streaming.onnx")):
                files = [("fp32", "model.streaming.onnx"), ("int8", "model.streaming.int8.onnx"),
                         ("wholeUtteranceFp32", "model.onnx"), ("wholeUtteranceInt8", "model.int8.onnx")]
            for kind, fname in files:
                out = os.path.join(odir, f"hyps_{name}_{kind}.json")
                r = run_onnx(os.path.join(a.model_dir, fname), fpath, ipath, out, bench=(name == "real" and a.bench))
                hmap = {h["id"]: h["hyp"] for h in r["hyps"]}
                entry[kind] = score(refs, [hmap[i] for i in ids])
                entry[kind]["file"] = fname
                entry[kind]["batchConsistencyMaxAbsDiff"] = r["batchConsistencyMaxAbsDiff"]
                if "pocketsphinx" in entry and entry["pocketsphinx"]["utterances"] < len(refs):
                    k = entry["pocketsphinx"]["utterances"]
                    entry[kind + "SameSubsetAsPocketsphinx"] = score(refs[:k], [hmap[i] for i in ids[:k]])
                if "speed" in r:
                    results["speed"][kind] = r["speed"]
                print(f"[{name}] {kind} {entry[kind]}", flush=True)
            ex = json.load(open(os.path.join(odir, f"hyps_{name}_fp32.json")))["hyps"][:5]
            entry["examples"] = [{"ref": refs[k], "hyp": ex[k]["hyp"]} for k in range(min(5, len(ex)))]
        results["sets"][name] = entry
    if not a.only_pocketsphinx and a.write:
        # optional: sherpa-onnx-node (its own fbank) must give the same transcripts as our features + ORT
        p = subprocess.run(["node", os.path.join(HERE, "check_sherpa.mjs")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.returncode == 0:
            try:
                chk = json.loads(p.stdout[p.stdout.index("{"):])
                results["sherpaOnnxCrossCheck"] = {"set": "real", "model": chk["model"], "recognizer": chk["recognizer"],
                                                   "prompts": chk["prompts"],
                                                   "identicalTranscripts": chk["identicalTranscripts"]}
                print("sherpa-onnx-node cross-check:", results["sherpaOnnxCrossCheck"], flush=True)
            except ValueError:
                pass
        else:
            print("sherpa-onnx-node cross-check skipped (sherpa-onnx-node not resolvable)", flush=True)
    json.dump(results, open(os.path.join(odir, "results.json"), "w"), indent=1)
    if a.only_pocketsphinx or not a.write:
        return
    # manifest provenance
    mpath = os.path.join(a.model_dir, "manifest.json")
    man = json.load(open(mpath))
    sp = results["speed"]
    man["provenance"]["heldOut"] = {
        "real": {"description": "112 held-out Asterisk core-sounds-en prompts (heldout_real.txt; real recorded 8 kHz telephone prompts, one female speaker), never trained on",
                 **{k: v for k, v in results["sets"]["real"].items() if k != "examples"}},
        "heldOutVoices": {"description": "whole voices never used in training: the speaker slt (flite slt with pseudo-speakers of other f0 and duration, festival cmu_us_slt_arctic_hts), festival kdl (ked_diphone), espeak-ng accents en-029 and en-gb-scotland with every variant; a third of the non-flite ones shifted in pitch and vocal tract by sox (pseudo-speakers); held-out generated sentences, clean 8 kHz renderings (no simulated channel)",
                      **{k: v for k, v in results["sets"]["voices"].items() if k != "examples"}},
        "metric": "WER/CER in percent on normalised text (lowercase a-z, apostrophe, space; numbers as words), greedy CTC decoding",
        "evaluatedWith": "onnxruntime-node " + ort_version() + " (CPU), features from models/recipes/asr/features.py",
        "speed": {k: {"threads": v["threads"], "batch1AudioSecPerSec": round(v["batch1"]["audioSecondsPerSecond"], 1),
                      "batch16AudioSecPerSec": round(v["batch16"]["audioSecondsPerSecond"], 1)} for k, v in sp.items()},
        "date": results["date"],
    }
    if "sherpaOnnxCrossCheck" in results:
        man["provenance"]["heldOut"]["sherpaOnnxCrossCheck"] = {
            **results["sherpaOnnxCrossCheck"],
            "note": "sherpa-onnx-node OfflineRecognizer (nemoCtc, featConfig sampleRate 8000, its own kaldi-native-fbank features) on the whole-utterance graph vs this recipe's features + onnxruntime-node on the graph Callscribe runs (fp32), greedy transcripts compared"}
    with open(mpath, "w", encoding="utf-8") as f:
        json.dump(man, f, indent=2, ensure_ascii=False)
        f.write("\n")
    write_readme(man, results)
    print("wrote manifest provenance and README", flush=True)


def ort_version():
    try:
        root = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
        return json.load(open(os.path.join(root, "node_modules", "onnxruntime-node", "package.json")))["version"]
    except Exception:
        return "?"


def write_readme(man, res):
    S = res["sets"]
    def cell(name, kind, k):
        v = S.get(name, {}).get(kind)
        return f"{v[k]:.1f}" if v else "n/a"
    rows = []
    ps_sub = S.get("voices", {}).get("pocketsphinx", {})
    sub_note = ""
    if ps_sub and ps_sub["utterances"] < S["voices"]["utterances"]:
        f32s = S["voices"].get("fp32SameSubsetAsPocketsphinx", {})
        i8s = S["voices"].get("int8SameSubsetAsPocketsphinx", {})
        sub_note = (f"\n\n\\* pocketsphinx was run on the first {ps_sub['utterances']} of the {S['voices']['utterances']} held-out voice utterances only "
                    f"(CPU time); on that same subset FP32 scores WER {f32s.get('wer', 'n/a')} / CER {f32s.get('cer', 'n/a')} and "
                    f"INT8 WER {i8s.get('wer', 'n/a')} / CER {i8s.get('cer', 'n/a')}.")
    systems = [(k, f"asr-en-telephony {k} (`{S['real'][k]['file']}`)") for k in
               ("fp32", "int8", "wholeUtteranceFp32", "wholeUtteranceInt8") if k in S.get("real", {})]
    systems.append(("pocketsphinx", "Debian pocketsphinx 0.8 + pocketsphinx-en-us (input upsampled to 16 kHz)"))
    for kind, label in systems:
        star = "\\*" if (kind == "pocketsphinx" and sub_note) else ""
        rows.append(f"| {label} | {cell('real', kind, 'wer')} | {cell('real', kind, 'cer')} | {cell('voices', kind, 'wer')}{star} | {cell('voices', kind, 'cer')}{star} |")
    sp = res["speed"]
    speed_rows = [f"| {k.upper()} | {v['threads']} | {v['batch1']['audioSecondsPerSecond']:.0f} | {v['batch16']['audioSecondsPerSecond']:.0f} |" for k, v in sp.items()]
    p = man["provenance"]
    f = man["features"]
    sc = res.get("sherpaOnnxCrossCheck")
    sherpa_line = (f"Cross-check: `sherpa-onnx-node` ({sc['recognizer']}, `nemoCtc`, its own feature extractor) on `{sc['model']}` produced identical "
                   f"transcripts to this table's FP32 streaming pipeline for {sc['identicalTranscripts']} of {sc['prompts']} held-out real prompts. "
                   f"(Its OnlineRecognizer does not set up NeMo features for `nemoCtc` models, so it cannot stand in for the streaming graph.)"
                   if sc else "")
    ex = "\n".join(f"| {e['ref']} | {e['hyp']} |" for e in S["real"].get("examples", []))
    text = f"""# asr-en-telephony

Small English streaming speech recogniser for 8 kHz telephone audio (Callscribe hotline analytics).
Character CTC, causal QuartzNet-style depthwise-separable 1-D convolutions (kernel 5, dilations
{'/'.join(str(d) for d in man['architecture'].get('dilations', []))}), {man['architecture']['params']:,} parameters.
Built by `models/recipes/asr/run.sh` (see `models/recipes/asr/README.md`); `manifest.json` is the model contract.

## Files

| file | what |
|---|---|
| `model.streaming.onnx` | FP32 cache-aware streaming graph, sherpa-onnx online NeMo CTC layout: windows of new frames plus the caches the previous window returned (what Callscribe runs) |
| `model.streaming.int8.onnx` | the same with INT8 matrix products: weights int8 per output column, activations uint8 with fixed scales calibrated on real training prompts (`QuantizeLinear` → onnxruntime's `com.microsoft.MatMulIntegerToFloat`, which applies the scales and bias in the same kernel) |
| `model.onnx` | FP32 whole-utterance graph, opset 13, sherpa-onnx offline NeMo CTC layout (`model_type` = `EncDecCTCModel`) |
| `model.int8.onnx` | whole-utterance graph with weight-only INT8 (Conv weights int8, per output channel, + `DequantizeLinear`) |
| `tokens.txt` | `<token> <id>`; `▁` = space (id 0), `'` = 1, `a`..`z` = 2..27, `<blk>` = 28 (blank, last id) |
| `manifest.json` | Callscribe model contract: features, I/O of both graphs, streaming states, receptive field, provenance, held-out scores |

## Interface

* Causal: every convolution is padded on the left only, so an output frame depends on no later audio (receptive
  field {man['receptiveField']['left']} input frames to the left, {man['receptiveField']['right']} to the right, the other frame of its stride pair). Subsampling 2 (50 output frames/s).
* Streaming graph: inputs `audio_signal` float32 `[N, 80, T]` (T new raw log-mel frames, T even; metadata
  `window_size` 24), `length` int64 `[N]`, and the states `cache_last_channel`, `cache_last_time`,
  `cache_last_channel_len` (zeros at the start of an utterance); outputs `logprobs` `[N, T/2, 29]`, `logprobs_length`
  and the next states. Every output frame is final: windows chained from zero states equal one pass over the whole
  utterance (checked at export, and by Callscribe's tests). Inside it is computed time-major, batch norm folded into
  the matrix products, each depthwise convolution a gather of its taps.
* Whole-utterance graph: `audio_signal` `[N, 80, T]` and `length` `[N]` in; `logprobs` `[N, T', 29]` (T' = ceil(T/2)) and
  `logprobs_length` = floor(length/2) out. Frames at or beyond `length` are zeroed after every block.
* Global mean/std normalisation is the first op inside both graphs (ONNX metadata `normalize_type` = "").
* Decoding: greedy CTC (argmax, collapse repeats, drop blank id 28, `▁` → space).

## Features (match sherpa-onnx's fbank for NeMo CTC models)

8 kHz, samples = int16/32768; 25 ms window (200 samples), 10 ms hop (80), `snip_edges` = false
(F = floor((N+40)/80) frames, frame f covers samples 80f-60 … 80f+139, reflected at the edges); no dither; no DC
removal; per-frame pre-emphasis 0.97 (`y[0] = 0.03*x[0]`); periodic Hann window; FFT 256; power spectrum; 80 Slaney-scale
mel filters 0–4000 Hz with Slaney area normalisation (kaldi-native-fbank `is_librosa`); natural log with floor
FLT_EPSILON (1.1920929e-07). Exact description in `manifest.json` → `features`; reference code
`models/recipes/asr/features.py` (`fbank_np`); test vector in `test/fixtures/asr/`.

## Held-out results

WER / CER in %, normalised text, greedy decoding; ONNX figures computed by onnxruntime-node
{ort_version()} on this recipe's features. Real = {S['real']['utterances']} held-out Asterisk prompts
(`models/recipes/asr/heldout_real.txt`, every fifth prompt in name order, one female speaker, {S['real']['audioMinutes']} min);
held-out voices = {S['voices']['utterances']} held-out sentences spoken by whole voices never used in training
(the speaker slt: flite `slt` and festival `cmu_us_slt_arctic_hts`; festival kdl `ked_diphone`; espeak-ng accents
`en-029` and `en-gb-scotland`; with pseudo-speakers; {S['voices']['audioMinutes']} min; clean 8 kHz renderings, no simulated channel).

| system | real WER | real CER | held-out voices WER | held-out voices CER |
|---|---|---|---|---|
{chr(10).join(rows)}{sub_note}

{sherpa_line}

Examples (real, FP32):

| reference | hypothesis |
|---|---|
{ex}

## Speed

onnxruntime-node CPU on the 2-core build machine (shared with other jobs while measured), held-out real set,
features precomputed, audio-seconds processed per wall-clock second:

| model | threads | batch 1 | batch 16 |
|---|---|---|---|
{chr(10).join(speed_rows)}

## Training

{p['steps']} steps, {p['trainingMinutes']} min on CPU, {p['audioHoursSeen']} h of (augmented) audio seen, {p['date']}.
The published run shared the 2-core machine with corpus rendering for its first minutes (new shards are picked up
while training) and with other jobs; `TRAIN_MINUTES` sets the wall-clock budget of the cosine schedule.
{('Warm start: ' + p['warmStart'] + '.' + chr(10)) if p.get('warmStart') else ''}Data: {p['data']}.

## Limitations

* Trained on synthetic voices plus one real (female, studio-quality IVR) speaker: expect much higher error rates on
  real callers, accents, spontaneous speech and overlapping talk. The word LM and lexicon (below) repair
  misspelt words; they cannot recover speech the acoustic model mishears.
* Numbers are recognised as words (e.g. "one two three"); inverse text normalisation is the caller's job.
"""
    # sections other parts of the system wrote into the README (the decoder's LM results) are kept
    path = os.path.join(MODEL_DIR, "README.md")
    if os.path.exists(path):
        ours = {l for l in text.splitlines() if l.startswith("## ")}
        old = open(path, encoding="utf-8").read().split("\n## ")
        extra = ["## " + sec.rstrip("\n") for sec in old[1:] if "## " + sec.splitlines()[0] not in ours]
        if extra:
            text = text.rstrip("\n") + "\n\n" + "\n\n".join(extra) + "\n"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


if __name__ == "__main__":
    main()
