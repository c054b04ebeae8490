import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { float32ToPcm16, resample } from "@callscribe/audio";
import { Recognizer } from "../../../services/asr/src/engine/engine.ts";
import {
  loadAsrModel,
  loadVad,
  type AsrModel,
  type RecognitionEvent,
  type VadModel,
} from "../../../services/asr/src/engine/index.ts";
import { fixtureItems, fixturePcm, modelDir, silentLogger, wordErrorRate } from "./support.ts";

interface HeldOutScore {
  wer: number;
}
const manifest = JSON.parse(readFileSync(join(modelDir, "manifest.json"), "utf8")) as {
  provenance?: { heldOut?: Record<string, { fp32?: HeldOutScore; int8?: HeldOutScore }> };
};

/**
 * The recipe's held-out WER for this model (manifest provenance, the README's table: the worse of the real
 * and synthetic sets) plus 25 points for the handful of fixture utterances and for VAD segmentation.
 */
function werBound(precision: "fp32" | "int8"): number {
  const sets = Object.values(manifest.provenance?.heldOut ?? {});
  const worst = Math.max(...sets.map((s) => s[precision]?.wer ?? 100));
  return worst / 100 + 0.25;
}

let model: Record<"fp32" | "int8", AsrModel>;
let vad: VadModel;

beforeAll(async () => {
  model = {
    fp32: await loadAsrModel({ dir: modelDir, provider: "cpu", precision: "fp32", logger: silentLogger }),
    int8: await loadAsrModel({ dir: modelDir, provider: "cpu", precision: "int8", logger: silentLogger }),
  };
  vad = await loadVad({ provider: "cpu", logger: silentLogger });
});

afterAll(async () => {
  await model?.fp32.close();
  await model?.int8.close();
  await vad?.close();
});

const options = { maxBatch: 32, maxWaitMs: 5, maxStreams: 8, maxQueuedChunks: 1000, chunkMs: 240 };
const textOf = (events: RecognitionEvent[]): string => events.map((e) => e.text).join(" ");

describe.each(["fp32", "int8"] as const)(
  "recognition of held-out real audio with the %s model",
  (precision) => {
    it("recognises the held-out prompts within the recipe's word error rate", async () => {
      const engine = new Recognizer({ model: model[precision], vad, logger: silentLogger, options });
      try {
        const pairs = [];
        for (const item of fixtureItems()) {
          const events = await engine.recognize(await fixturePcm(item.file), { sampleRate: 8000 });
          for (const e of events) {
            expect(e).toMatchObject({ kind: "final", endOfUtterance: true, language: "en", dialect: "" });
            expect(e.endMs).toBeGreaterThan(e.startMs);
          }
          pairs.push({ reference: item.text, hypothesis: textOf(events) });
        }
        const wer = wordErrorRate(pairs);
        expect(wer, JSON.stringify(pairs)).toBeLessThanOrEqual(werBound(precision));
      } finally {
        await engine.close();
      }
    });
  },
);

describe("16 kHz input", () => {
  it("is resampled to the model's 8 kHz: the same speech is found and recognised as well", async () => {
    const engine = new Recognizer(
      { model: model.fp32, vad, logger: silentLogger, options },
      { captureLogProbs: true },
    );
    try {
      const item = fixtureItems().find((i) => i.file.startsWith("real_"))!;
      const narrow = await fixturePcm(item.file);
      const wide = float32ToPcm16(resample(narrow, 8000, 16000));
      const runs = [];
      for (const [rate, pcm] of [
        [8000, narrow],
        [16000, wide],
      ] as const) {
        const stream = engine.openStream({ sampleRate: rate, interimResults: false });
        const events: RecognitionEvent[] = [];
        stream.onEvent((e) => events.push(e));
        for (let offset = 0; offset < pcm.length; offset += rate / 50)
          stream.pushAudio(pcm.subarray(offset, offset + rate / 50));
        await stream.finish();
        runs.push({ events, utterances: stream.capturedUtterances });
      }
      const [at8, at16] = runs as [(typeof runs)[0], (typeof runs)[0]];
      // Utterance boundaries are in model-rate samples: the VAD saw the same speech at both rates.
      expect(at16.utterances.length).toBe(at8.utterances.length);
      at16.utterances.forEach((u, i) => {
        expect(Math.abs(u.startSample - at8.utterances[i]!.startSample)).toBeLessThanOrEqual(2 * 256);
        expect(Math.abs(u.endSample - at8.utterances[i]!.endSample)).toBeLessThanOrEqual(2 * 256);
      });
      const wer16 = wordErrorRate([{ reference: item.text, hypothesis: textOf(at16.events) }]);
      const wer8 = wordErrorRate([{ reference: item.text, hypothesis: textOf(at8.events) }]);
      expect(wer16).toBeLessThanOrEqual(Math.max(werBound("fp32"), wer8 + 0.2));
    } finally {
      await engine.close();
    }
  });
});

describe("endpointing", () => {
  it("force-cuts speech at maxUtteranceMs, so no utterance grows without bound", async () => {
    const engine = new Recognizer(
      { model: model.fp32, vad, logger: silentLogger, options },
      { captureLogProbs: true },
    );
    try {
      const parts = await Promise.all(fixtureItems().map((i) => fixturePcm(i.file)));
      const speech = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
      parts.reduce((at, p) => (speech.set(p, at), at + p.length), 0);
      const stream = engine.openStream({
        sampleRate: 8000,
        interimResults: false,
        endpointing: { maxUtteranceMs: 2000, trailingSilenceMs: 5000 },
      });
      stream.pushAudio(speech);
      await stream.finish();
      const lengths = stream.capturedUtterances.map((u) => ((u.endSample - u.startSample) / 8000) * 1000);
      expect(lengths.length).toBeGreaterThanOrEqual(Math.floor(speech.length / 8000 / 2) - 1);
      for (const ms of lengths) expect(ms).toBeLessThanOrEqual(2000);
      // Cut utterances follow each other in order and never overlap.
      stream.capturedUtterances.slice(1).forEach((u, i) => {
        expect(u.startSample).toBeGreaterThanOrEqual(stream.capturedUtterances[i]!.endSample);
      });
    } finally {
      await engine.close();
    }
  });
});

describe("the VAD's energy gate", () => {
  it("answers digital silence without Silero passes and finds the same utterances as Silero on every window", async () => {
    const prompts = await Promise.all(
      fixtureItems()
        .slice(0, 3)
        .map((item) => fixturePcm(item.file)),
    );
    // Each prompt between two seconds of digital silence.
    const audio = new Int16Array(prompts.reduce((n, p) => n + p.length + 16_000, 16_000));
    prompts.reduce((at, p) => (audio.set(p, at), at + p.length + 16_000), 16_000);
    const run = async (vadEnergyFloorDbfs: number | null) => {
      const registry = new Registry();
      const engine = new Recognizer(
        {
          model: model.fp32,
          vad,
          logger: silentLogger,
          registry,
          options: { ...options, vadEnergyFloorDbfs },
        },
        { captureLogProbs: true },
      );
      try {
        const stream = engine.openStream({ sampleRate: 8000, interimResults: false });
        stream.pushAudio(audio);
        await stream.finish();
        const metric = registry.getSingleMetric("asr_engine_vad_quiet_windows_total")!;
        const quiet = (await metric.get()).values[0]!.value;
        return { utterances: stream.capturedUtterances, quiet };
      } finally {
        await engine.close();
      }
    };
    const gated = await run(-60);
    const ungated = await run(null);
    // 8 s of silence are 125 windows of 64 ms (the prompts' own pauses may add some).
    expect(gated.quiet).toBeGreaterThanOrEqual(120);
    expect(ungated.quiet).toBe(0);
    // Silero's state differs after skipped windows, so an onset may move by a window.
    expect(gated.utterances.length).toBe(ungated.utterances.length);
    expect(gated.utterances.length).toBeGreaterThanOrEqual(prompts.length);
    gated.utterances.forEach((u, i) => {
      expect(Math.abs(u.startSample - ungated.utterances[i]!.startSample)).toBeLessThanOrEqual(512);
      expect(Math.abs(u.endSample - ungated.utterances[i]!.endSample)).toBeLessThanOrEqual(512);
    });
  });
});

describe("hotwords", () => {
  it("bias the beam search toward a phrase that is spoken, without inserting one that is not", async () => {
    const engine = new Recognizer({ model: model.fp32, vad, logger: silentLogger, options });
    try {
      const pin = await fixturePcm("real_conf-getpin.wav"); // "please enter the conference pin number"
      const boosted = await engine.recognize(pin, {
        sampleRate: 8000,
        hotwords: [{ phrase: "conference", boost: 1.5 }],
      });
      expect(textOf(boosted).split(" ")).toContain("conference");
      const busy = await fixturePcm("real_all-circuits-busy-now.wav"); // "all circuits are busy now"
      const absent = await engine.recognize(busy, {
        sampleRate: 8000,
        hotwords: [{ phrase: "refund", boost: 1.5 }],
      });
      expect(textOf(absent)).not.toMatch(/refund/);
    } finally {
      await engine.close();
    }
  });
});
