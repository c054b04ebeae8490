import { describe, expect, it } from "vitest";
import { createVocabulary } from "../model/vocabulary.ts";
import { BeamCtcDecoder, GreedyCtcDecoder, type AlignedToken, type CtcDecoder } from "./ctc.ts";
import { HotwordGraph } from "./hotwords.ts";
import { assembleTranscript } from "./words.ts";

// The asr-en-telephony vocabulary: word separator, apostrophe, a-z, blank.
const TOKENS = ["▁", "'", ..."abcdefghijklmnopqrstuvwxyz", "<blk>"];
const vocabulary = createVocabulary(TOKENS, 28, "▁");
const V = TOKENS.length;
const BLANK = 28;

/** Log-probs where each frame puts `p` on one symbol ("_" = blank, " " = space) and spreads the rest. */
function frames(spec: Array<string | Record<string, number>>, p = 0.9): Float32Array {
  const out = new Float32Array(spec.length * V);
  spec.forEach((frame, t) => {
    const probs = new Float64Array(V);
    const entries = typeof frame === "string" ? { [frame]: p } : frame;
    let used = 0;
    for (const [symbol, prob] of Object.entries(entries)) {
      probs[idOf(symbol)] = prob;
      used += prob;
    }
    const rest = (1 - used) / (V - Object.keys(entries).length);
    for (let v = 0; v < V; v++) out[t * V + v] = Math.log(probs[v] || rest);
  });
  return out;
}

function idOf(symbol: string): number {
  if (symbol === "_") return BLANK;
  if (symbol === " ") return 0;
  return TOKENS.indexOf(symbol);
}

function decode(decoder: CtcDecoder, logProbs: Float32Array): AlignedToken[] {
  for (let t = 0; t < logProbs.length / V; t++) decoder.step(logProbs, t * V);
  return decoder.result();
}

function text(tokens: AlignedToken[]): string {
  return assembleTranscript(tokens, vocabulary, () => 1, 20, 0).text;
}

const helloWorld = frames([
  "_",
  "h",
  "h",
  "e",
  "_",
  "l",
  "l",
  "_",
  "l",
  "o",
  "_",
  " ",
  "w",
  "o",
  "r",
  "_",
  "l",
  "d",
  "d",
  "_",
]);

describe("GreedyCtcDecoder", () => {
  it("collapses repeats, drops blanks and keeps doubled letters split by a blank", () => {
    const tokens = decode(new GreedyCtcDecoder(V, BLANK), helloWorld);
    expect(text(tokens)).toBe("hello world");
    expect(tokens[0]).toEqual({ id: idOf("h"), firstFrame: 1, lastFrame: 2 });
    expect(tokens.at(-1)).toEqual({ id: idOf("d"), firstFrame: 17, lastFrame: 18 });
  });

  it("peeks at provisional frames without changing its state", () => {
    const decoder = new GreedyCtcDecoder(V, BLANK);
    const head = helloWorld.subarray(0, 10 * V);
    for (let t = 0; t < 10; t++) decoder.step(head, t * V);
    expect(text(decoder.peek(helloWorld, 10 * V, 10))).toBe("hello world");
    expect(text(decoder.result())).toBe("hello");
    for (let t = 10; t < 20; t++) decoder.step(helloWorld, t * V);
    expect(text(decoder.result())).toBe("hello world");
  });
});

describe("BeamCtcDecoder", () => {
  it("equals greedy decoding with beam width 1 on peaky posteriors", () => {
    const greedy = decode(new GreedyCtcDecoder(V, BLANK), helloWorld);
    const beam = decode(new BeamCtcDecoder(V, BLANK, { beamWidth: 1 }), helloWorld);
    expect(text(beam)).toBe(text(greedy));
    expect(beam.map((t) => t.firstFrame)).toEqual(greedy.map((t) => t.firstFrame));
  });

  it("sums over alignments where greedy follows the single best path", () => {
    // Best path is blank-blank (0.36), but "a" has probability 1 - 0.36 - (b paths) over all its alignments.
    const lp = frames([
      { _: 0.6, a: 0.4 },
      { _: 0.6, a: 0.4 },
    ]);
    expect(text(decode(new GreedyCtcDecoder(V, BLANK), lp))).toBe("");
    expect(text(decode(new BeamCtcDecoder(V, BLANK, { beamWidth: 8 }), lp))).toBe("a");
  });

  it("a hotword flips an ambiguous word toward the phrase", () => {
    // "cat" or "kat": the acoustics lean slightly to k.
    const lp = frames(["_", { k: 0.5, c: 0.4 }, "a", "_", "t", "_"]);
    expect(text(decode(new BeamCtcDecoder(V, BLANK, { beamWidth: 8 }), lp))).toBe("kat");
    const hotwords = HotwordGraph.build([{ phrase: "cat", boost: 1.5 }], vocabulary);
    expect(text(decode(new BeamCtcDecoder(V, BLANK, { beamWidth: 8, hotwords }), lp))).toBe("cat");
  });

  it("gives back the bonus of a phrase that is only partly matched", () => {
    // "ca" is a prefix of the hotword "cart" but the audio says "ka"; a kept partial bonus would pick "ca".
    const lp = frames(["_", { k: 0.5, c: 0.4 }, "a", "_"]);
    const hotwords = HotwordGraph.build([{ phrase: "cart", boost: 0.5 }], vocabulary);
    expect(text(decode(new BeamCtcDecoder(V, BLANK, { beamWidth: 8, hotwords }), lp))).toBe("ka");
  });
});

describe("assembleTranscript", () => {
  it("times words by their frames and scores them by the frames' posteriors", () => {
    const tokens = decode(new GreedyCtcDecoder(V, BLANK), helloWorld);
    const confidence = (frame: number): number => (frame < 10 ? 0.5 : 1);
    const t = assembleTranscript(tokens, vocabulary, confidence, 20, 1000);
    expect(t.words).toEqual([
      { word: "hello", startMs: 1000 + 1 * 20, endMs: 1000 + 10 * 20, confidence: 0.5 },
      { word: "world", startMs: 1000 + 12 * 20, endMs: 1000 + 19 * 20, confidence: 1 },
    ]);
    expect(t.confidence).toBeCloseTo(0.75);
  });
});
