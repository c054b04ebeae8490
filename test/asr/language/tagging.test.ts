import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resample } from "@callscribe/audio";
import { FbankExtractor, computeFbank } from "../../../services/asr/src/engine/features/fbank.ts";
import { resolveFeatures } from "../../../services/asr/src/engine/model/load.ts";
import {
  LegLanguage,
  loadLanguageModel,
  type LanguageIdModel,
} from "../../../services/asr/src/language/index.ts";
import { fixturePcm, fixtures, languageModelDir, silentLogger, speakers, tagAsLeg } from "./support.ts";

let model: LanguageIdModel;
beforeAll(async () => {
  model = await loadLanguageModel({ dir: languageModelDir, provider: "cpu" });
});
afterAll(async () => {
  await model.close();
});

// No test asserts that the held-out real speakers (test/fixtures/language) get their language: the model does
// not do so (models/language-id/README.md has the numbers). They are used below for what it does do.

describe("refinement over a leg", () => {
  it("refines the tag with each of the first utterances, then every later one carries the settled tag", async () => {
    const files = fixtures.filter((f) => f.speaker === speakers[0]).map((f) => f.file);
    const refining = (await tagAsLeg(model, files, 8)).tags;
    expect(refining[2]!.confidence).not.toBeCloseTo(refining[0]!.confidence, 6);
    const settled = (await tagAsLeg(model, files, 1)).tags;
    expect(settled[0]).toEqual(refining[0]);
    expect(settled[1]).toEqual(settled[0]);
    expect(settled[2]).toEqual(settled[0]);
  });

  it("a leg at 16 kHz is resampled to the model's rate and tagged like its 8 kHz audio", async () => {
    const first = fixtures[0]!;
    const { pcm } = await fixturePcm(first.file);
    const narrow = (await tagAsLeg(model, [first.file])).tags[0]!;
    const wide = resample(pcm, 8000, 16000);
    const pcm16k = Int16Array.from(wide, (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32768))));
    const leg = new LegLanguage({ model, maxUtterances: 8, logger: silentLogger });
    leg.pushAudio(pcm16k, 16000);
    const tag = await leg.tagUtterance(0, (pcm16k.length * 1000) / 16000);
    expect(tag.language).toBe(narrow.language);
    expect(tag.confidence).toBeCloseTo(narrow.confidence, 1);
  });

  it("an utterance shorter than the model's minimum speech adds nothing: the leg stays und", async () => {
    const { pcm } = await fixturePcm(fixtures[0]!.file);
    const leg = new LegLanguage({ model, maxUtterances: 8, logger: silentLogger });
    leg.pushAudio(pcm, 8000);
    const tag = await leg.tagUtterance(0, model.manifest.minSpeechMs / 2);
    expect(tag).toEqual({ language: "und", dialect: "und", confidence: 0 });
  });
});

describe("the service's features and graph agree with the recipe", () => {
  it("gives the log-posteriors the recipe's torch model gave for its check signal", async () => {
    const manifest = JSON.parse(readFileSync(join(languageModelDir, "manifest.json"), "utf8")) as {
      provenance: { checkLogProbs: number[] };
    };
    const signal = Float32Array.from({ length: 16000 }, (_, n) => Math.fround(Math.sin(n * 0.05) * 0.3));
    const got = await model.classify(signal);
    manifest.provenance.checkLogProbs.forEach((want, i) => expect(got[i]!).toBeCloseTo(want, 2));
    // The same features the ASR front end computes.
    const fbank = new FbankExtractor(
      resolveFeatures({ ...model.manifest.features, normalization: "none" }, 8000),
    );
    expect(computeFbank(fbank, signal).frames).toBe(200);
  });
});
