import { beforeAll, describe, expect, it } from "vitest";
import { loadEmotionModel } from "../../services/emotion/src/model/load.ts";
import type { EmotionModel, SpeakerState } from "../../services/emotion/src/model/types.ts";
import { promptFiles, prosodyModelDir, render, silentLogger, speakers } from "./support.ts";

/**
 * The default model on real prompts of two speakers. For each speaker a baseline is built from some
 * prompts as recorded; other prompts are then scored in renditions changed with sox, each against a
 * fresh copy of that baseline (so one rendition's score never moves another's).
 */
let model: EmotionModel;
const baselinePrompts: Record<string, Float32Array[]> = {};
const testPrompts: Record<string, string[]> = {};

beforeAll(async () => {
  model = await loadEmotionModel({ dir: prosodyModelDir, provider: "cpu", logger: silentLogger });
  for (const [name, dir] of Object.entries(speakers)) {
    baselinePrompts[name] = promptFiles(dir, 6).map((p) => render(p));
    testPrompts[name] = promptFiles(dir, 5, 6);
  }
});

async function speakerWithBaseline(name: string): Promise<SpeakerState> {
  const speaker = model.newSpeaker();
  await model.classify(baselinePrompts[name]!.map((samples) => ({ samples, speaker })));
  return speaker;
}

const rendered = new Map<string, Float32Array>();
function renderOnce(path: string, effects: string[]): Float32Array {
  const key = `${path} ${effects.join(" ")}`;
  let samples = rendered.get(key);
  if (!samples) rendered.set(key, (samples = render(path, effects)));
  return samples;
}

/** Mean arousal of the speaker's test prompts rendered with `effects`, each against the baseline. */
const scored = new Map<string, Promise<{ arousal: number; labels: string[] }>>();
function arousalOf(name: string, effects: string[]): Promise<{ arousal: number; labels: string[] }> {
  const key = `${name} ${effects.join(" ")}`;
  let result = scored.get(key);
  if (!result) scored.set(key, (result = scoreRenditions(name, effects)));
  return result;
}

async function scoreRenditions(
  name: string,
  effects: string[],
): Promise<{ arousal: number; labels: string[] }> {
  let sum = 0;
  const labels: string[] = [];
  for (const path of testPrompts[name]!) {
    const speaker = await speakerWithBaseline(name);
    const [result] = await model.classify([{ samples: renderOnce(path, effects), speaker }]);
    sum += result!.arousal;
    labels.push(result!.label);
  }
  return { arousal: sum / testPrompts[name]!.length, labels };
}

const ladders: Record<string, string[][]> = {
  louder: [[], ["gain", "2"], ["gain", "4"], ["gain", "6"]],
  faster: [[], ["tempo", "1.1"], ["tempo", "1.2"], ["tempo", "1.35"]],
  higher: [[], ["pitch", "100"], ["pitch", "200"], ["pitch", "300"]],
};

describe("prosody arousal on real prompts", () => {
  for (const name of Object.keys(speakers)) {
    for (const [change, steps] of Object.entries(ladders)) {
      it(`${name}: ${change} renditions score higher arousal, step by step`, async () => {
        const scores: number[] = [];
        for (const effects of steps) scores.push((await arousalOf(name, effects)).arousal);
        for (let i = 1; i < scores.length; i++)
          expect(scores[i]!, `${change} ${JSON.stringify(scores)}`).toBeGreaterThan(scores[i - 1]!);
        expect(scores.at(-1)! - scores[0]!).toBeGreaterThan(0.1);
      });
    }

    it(`${name}: renditions as recorded score neutral, subdued ones calm, loud fast high ones agitated`, async () => {
      const asRecorded = await arousalOf(name, []);
      expect(asRecorded.labels.filter((l) => l === "neutral").length).toBeGreaterThanOrEqual(4);
      const subdued = await arousalOf(name, ["gain", "-4", "tempo", "0.85", "pitch", "-150"]);
      expect(subdued.labels.filter((l) => l === "calm").length, subdued.labels.join()).toBeGreaterThanOrEqual(
        4,
      );
      expect(subdued.arousal).toBeLessThan(-0.4);
      const agitated = await arousalOf(name, ["gain", "4", "tempo", "1.2", "pitch", "200"]);
      expect(
        agitated.labels.filter((l) => l === "agitated").length,
        agitated.labels.join(),
      ).toBeGreaterThanOrEqual(4);
      expect(agitated.arousal).toBeGreaterThan(0.4);
    });
  }

  it("the same change moves two different speakers' arousal by similar amounts", async () => {
    for (const effects of [
      ["gain", "3"],
      ["tempo", "1.2"],
      ["pitch", "150"],
      ["gain", "-3", "tempo", "0.9"],
    ]) {
      const moves = [];
      for (const name of Object.keys(speakers)) {
        moves.push((await arousalOf(name, effects)).arousal - (await arousalOf(name, [])).arousal);
      }
      const [a, b] = moves as [number, number];
      expect(Math.sign(a), JSON.stringify({ effects, moves })).toBe(Math.sign(b));
      expect(Math.abs(a - b), JSON.stringify({ effects, moves })).toBeLessThan(
        0.5 * Math.max(Math.abs(a), Math.abs(b)),
      );
    }
  });
});
