import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { pcm16ToFloat32 } from "@callscribe/audio";
import { loadAsrModel } from "../../../services/asr/src/engine/index.ts";
import type { AcousticModel } from "../../../services/asr/src/engine/model/acoustic-model.ts";
import {
  windowSessionDisagreement,
  withWindowSessions,
} from "../../../services/asr/src/engine/model/window-sessions.ts";
import { fixtureItems, fixturePcm, modelDir, silentLogger, streamAlone } from "./support.ts";

type Precision = "fp32" | "int8";
const models: Record<Precision, AcousticModel> = {} as never;

beforeAll(async () => {
  for (const precision of ["fp32", "int8"] as const)
    models[precision] = (await loadAsrModel({
      dir: modelDir,
      provider: "cpu",
      precision,
      streamingChunkMs: [240, 4000],
      logger: silentLogger,
    })) as AcousticModel;
});

afterAll(async () => {
  for (const model of Object.values(models)) await model?.close();
});

/** The same model without window sessions: its windows run on the small-pass session. */
function withoutWindowSessions(model: AcousticModel): AcousticModel {
  return model.withWindowSessionsOf(new Map());
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe("window sessions", () => {
  it("are opened for one stream's window of each chunk length the engine streams with", () => {
    for (const model of Object.values(models)) {
      // 240 ms and 4 s of 10 ms frames; the graph reads no frames ahead.
      expect([...model.windowSessions.keys()]).toEqual([24, 400]);
      expect(model.takesSamples).toBe(true);
    }
  });

  it.each(["fp32", "int8"] as const)(
    "give a %s stream's windows the log-probs of the graph's own session",
    async (precision) => {
      const model = models[precision];
      const general = withoutWindowSessions(model);
      for (const item of fixtureItems()
        .filter((i) => i.file.startsWith("real_"))
        .slice(0, 3)) {
        const samples = pcm16ToFloat32(await fixturePcm(item.file));
        const got = await streamAlone(model, samples);
        const want = await streamAlone(general, samples);
        expect(got.logProbs.length).toBeGreaterThan(0);
        expect(maxDiff(got.logProbs, want.logProbs)).toBeLessThanOrEqual(1e-5);
        expect(got.tokens).toBe(want.tokens);
      }
    },
  );

  it("are where one stream's windows of their length run", async () => {
    // The int8 graph's window sessions in the fp32 model: its windows then give the int8 graph's log-probs.
    const mixed = models.fp32.withWindowSessionsOf(models.int8.windowSessions);
    const item = fixtureItems().find((i) => i.file.startsWith("real_"))!;
    const samples = pcm16ToFloat32(await fixturePcm(item.file));
    const fp32 = await streamAlone(withoutWindowSessions(models.fp32), samples);
    const int8 = await streamAlone(withoutWindowSessions(models.int8), samples);
    const got = await streamAlone(mixed, samples);
    expect(maxDiff(got.logProbs, int8.logProbs)).toBeLessThanOrEqual(1e-5);
    expect(maxDiff(got.logProbs, fp32.logProbs)).toBeGreaterThan(1e-3);
  });

  it("are checked at load against the graph's own session, which names the first disagreement", async () => {
    expect(await windowSessionDisagreement(models.fp32)).toBeNull();
    expect(await windowSessionDisagreement(models.int8)).toBeNull();
    // The int8 graph's window sessions in the fp32 model: a pass through them gives other log-probs.
    const mixed = models.fp32.withWindowSessionsOf(models.int8.windowSessions);
    expect(await windowSessionDisagreement(mixed)).toMatch(
      /^window 1 of 24 frames: log-prob value \d+ is -?[\d.e-]+, -?[\d.e-]+ without its window session$/,
    );
  });

  it("are left out, with a warning, for a graph that takes more than a window's inputs", async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: "warn" },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const model = withoutWindowSessions(models.fp32);
    // The whole-utterance graph has no state inputs, and its inputs are not a window's.
    const wholeGraph = readFileSync(join(modelDir, "model.onnx"));
    const result = await withWindowSessions(
      model,
      "model asr-en-telephony",
      () => wholeGraph,
      [240],
      { provider: "cpu", intraOpThreads: 1 },
      logger,
    );
    expect(result).toBe(model);
    expect(result.windowSessions.size).toBe(0);
    expect(lines.join("")).toMatch(/no window sessions: passes of one stream run as any other/);
  });

  it("are none for a model on cuda, or when no chunk length is given", async () => {
    const model = withoutWindowSessions(models.fp32);
    const graph = () => {
      throw new Error("no graph is read");
    };
    for (const [provider, chunkMs] of [
      ["cuda", [240]],
      ["cpu", []],
    ] as const) {
      const result = await withWindowSessions(model, "m", graph, chunkMs, { provider }, silentLogger);
      expect(result).toBe(model);
    }
  });
});
