import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidArgumentError } from "@callscribe/errors";
import { WordSearchOptionError } from "../../../services/asr/src/engine/decoding/word-lm.ts";
import {
  createRecognizerEngine,
  loadAsrModel,
  loadVad,
  type RecognitionEvent,
  type RecognizerEngine,
  type VadModel,
  type WordLanguageModel,
} from "../../../services/asr/src/engine/index.ts";
import { readSphinxTrie } from "../../../services/asr/src/engine/lm/index.ts";
import type { AcousticModel } from "../../../services/asr/src/engine/model/acoustic-model.ts";
import type { EngineStream } from "../../../services/asr/src/engine/streaming/stream.ts";
import { fixtureItems, fixturePcm, modelDir, silentLogger } from "../engine/support.ts";

/** Debian's general English trigram (pocketsphinx-en-us), for a model folder that declares no LM. */
const sphinxTrigram = "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin";

let model: AcousticModel;
let vad: VadModel;
let language: WordLanguageModel;
const engineOptions = { maxBatch: 32, maxWaitMs: 10, maxStreams: 16, maxQueuedChunks: 1000, chunkMs: 240 };

/** The model folder's LM, or else the Sphinx trigram with its words as the lexicon. */
function languageOf(acoustic: AcousticModel): WordLanguageModel {
  if (acoustic.languageModel && acoustic.lexicon)
    return { lm: acoustic.languageModel, lexicon: acoustic.lexicon };
  if (!existsSync(sphinxTrigram))
    throw new Error(
      `${modelDir} declares no LM and ${sphinxTrigram} is missing: install pocketsphinx-en-us or give the model an LM`,
    );
  const lm = readSphinxTrie(sphinxTrigram);
  const vocabulary = acoustic.spec.vocabulary;
  const words: string[] = [];
  const spellings: Int32Array[] = [];
  for (const word of lm.tables.words) {
    const ids = [...word].map((c) => vocabulary.idOfChar.get(c) ?? -1);
    if (word.startsWith("<") || ids.some((id) => id < 0 || id === vocabulary.spaceId)) continue;
    words.push(word);
    spellings.push(Int32Array.from(ids));
  }
  return { lm, lexicon: { words, spellings } };
}

beforeAll(async () => {
  model = (await loadAsrModel({
    dir: modelDir,
    provider: "cpu",
    precision: "fp32",
    logger: silentLogger,
  })) as AcousticModel;
  vad = await loadVad({ provider: "cpu", logger: silentLogger });
  language = languageOf(model);
}, 60_000);

afterAll(async () => {
  await model?.close();
  await vad?.close();
});

function engineWith(options: Record<string, unknown> = {}): RecognizerEngine {
  return createRecognizerEngine({
    model,
    vad,
    logger: silentLogger,
    language,
    options: { ...engineOptions, ...options },
  });
}

const textOf = (events: RecognitionEvent[]): string => events.map((e) => e.text).join(" ");

function wordErrors(ref: string, hyp: string): number {
  const a = ref.split(" ").filter(Boolean);
  const b = hyp.split(" ").filter(Boolean);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

const real = () => fixtureItems().filter((i) => i.file.startsWith("real_"));

describe("LM decoding through the engine", () => {
  it("decodes with the LM by default when the engine has one, and recognises real prompts' words", async () => {
    const engine = engineWith();
    expect(engine.decoder).toBe("lm");
    try {
      let greedyErrors = 0;
      let lmErrors = 0;
      for (const item of real()) {
        const pcm = await fixturePcm(item.file);
        const lm = textOf(await engine.recognize(pcm, { sampleRate: 8000 }));
        const greedy = textOf(await engine.recognize(pcm, { sampleRate: 8000, decoder: "greedy" }));
        greedyErrors += wordErrors(item.text, greedy);
        lmErrors += wordErrors(item.text, lm);
        // Every word shown is a word of the lexicon (the refuse policy).
        for (const word of lm.split(" ").filter(Boolean)) expect(language.lexicon.words).toContain(word);
      }
      expect(lmErrors).toBeLessThan(greedyErrors);
      const conference = textOf(
        await engine.recognize(await fixturePcm("real_conf-getpin.wav"), { sampleRate: 8000 }),
      );
      expect(conference).toMatch(/^please enter the conference (\w+ )?number$/);
    } finally {
      await engine.close();
    }
  });

  it("streams partials from the live beam and a final equal to the whole-utterance result, with ordered word times", async () => {
    const engine = engineWith();
    try {
      for (const item of real()) {
        const pcm = await fixturePcm(item.file);
        const whole = await engine.recognize(pcm, { sampleRate: 8000 });
        const stream = engine.openStream({ sampleRate: 8000, interimResults: true });
        const events: RecognitionEvent[] = [];
        stream.onEvent((e) => events.push(e));
        // 100 ms packets, each once the engine has caught up with the last, as a live leg arrives.
        for (let at = 0; at < pcm.length; at += 800) {
          stream.pushAudio(pcm.subarray(at, at + 800));
          await (stream as EngineStream).whenBacklogBelow(300);
        }
        await stream.finish();
        const finals = events.filter((e) => e.kind === "final");
        const partials = events.filter((e) => e.kind === "partial");
        expect(textOf(finals)).toBe(textOf(whole));
        expect(partials.length).toBeGreaterThan(1);
        for (const event of [...finals, ...partials]) {
          let last = event.startMs;
          for (const word of event.words) {
            expect(word.startMs).toBeGreaterThanOrEqual(last);
            expect(word.endMs).toBeGreaterThan(word.startMs);
            expect(word.endMs).toBeLessThanOrEqual(event.endMs + 40);
            expect(word.confidence).toBeGreaterThanOrEqual(0);
            expect(word.confidence).toBeLessThanOrEqual(1);
            last = word.endMs;
          }
        }
      }
    } finally {
      await engine.close();
    }
  });

  it("applies hotwords inside the LM search", async () => {
    const engine = engineWith();
    try {
      const pcm = await fixturePcm("real_conf-getpin.wav");
      const plain = textOf(await engine.recognize(pcm, { sampleRate: 8000 }));
      expect(plain).not.toContain("pin number");
      const boosted = textOf(
        await engine.recognize(pcm, { sampleRate: 8000, hotwords: [{ phrase: "pin number", boost: 4 }] }),
      );
      expect(boosted).toBe("please enter the conference pin number");
    } finally {
      await engine.close();
    }
  });

  it("refuses LM decoding without an LM, naming the option", async () => {
    expect(() =>
      createRecognizerEngine({
        model,
        vad,
        logger: silentLogger,
        language: null,
        options: { ...engineOptions, decoder: "lm" },
      }),
    ).toThrow(WordSearchOptionError);
    const greedyOnly = createRecognizerEngine({
      model,
      vad,
      logger: silentLogger,
      language: null,
      options: engineOptions,
    });
    try {
      expect(greedyOnly.decoder).toBe("greedy");
      expect(() => greedyOnly.openStream({ sampleRate: 8000, interimResults: false, decoder: "lm" })).toThrow(
        InvalidArgumentError,
      );
    } finally {
      await greedyOnly.close();
    }
    expect(() => engineWith({ lmWeight: -1 })).toThrow(/lmWeight -1 is out of range/);
    expect(() => engineWith({ beamWidth: 0 })).toThrow(/beamWidth/);
  });
});
