import { afterEach, describe, expect, it } from "vitest";
import { ModelLoadError } from "@callscribe/errors";
import { loadLanguageModel } from "../../../services/asr/src/language/index.ts";
import { editedModelCopy, languageModelDir } from "./support.ts";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function refusal(edit: (manifest: Json) => void): Promise<string> {
  const copy = editedModelCopy(edit);
  cleanups.push(copy.remove);
  try {
    const model = await loadLanguageModel({ dir: copy.dir, provider: "cpu" });
    await model.close();
  } catch (err) {
    expect(err).toBeInstanceOf(ModelLoadError);
    return (err as Error).message;
  }
  throw new Error("the model loaded, but it should have been refused");
}

describe("loadLanguageModel", () => {
  it("loads the committed model with its BCP-47 labels", async () => {
    const model = await loadLanguageModel({ dir: languageModelDir, provider: "cpu" });
    try {
      expect(model.sampleRate).toBe(8000);
      const tags = model.labels.map((l) => l.tag);
      expect(tags).toEqual(
        expect.arrayContaining([
          "en-US",
          "es-419",
          "es-ES",
          "fr-FR",
          "fr-CA",
          "it",
          "ru",
          "nl",
          "cs",
          "de",
          "zh",
          "yue",
        ]),
      );
      expect(new Set(model.labels.map((l) => l.language)).size).toBeGreaterThanOrEqual(8);
    } finally {
      await model.close();
    }
  });

  it("refuses a manifest with one label more than the graph's output has, naming both widths", async () => {
    const message = await refusal((m) => {
      m.labels.push({ tag: "tr", language: "tr" });
      m.outputs[0].shape[1] = m.labels.length;
    });
    expect(message).toMatch(
      /the manifest disagrees with model\.onnx: output "log_probs" dim 1 is 19 in the graph, declared 20/,
    );
  });

  it("refuses a renamed input, naming the graph's input", async () => {
    const message = await refusal((m) => (m.inputs[0].name = "feats"));
    expect(message).toMatch(/input "feats" is declared but the graph's inputs are "features"/);
    expect(message).toMatch(/the graph needs input "features", which the manifest does not declare/);
  });

  it("refuses a feature dimension the graph does not take", async () => {
    const message = await refusal((m) => {
      m.features.dim = 64;
      m.features.melBins = 64;
      m.inputs[0].shape[2] = 64;
    });
    expect(message).toMatch(/input "features" dim 2 is 80 in the graph, declared 64/);
  });

  it("refuses labels that disagree with their own list of outputs before opening the graph", async () => {
    const message = await refusal((m) => m.labels.pop());
    expect(message).toMatch(/output "log_probs" is declared \[N, 19\]; 18 labels need \[N, 18\]/);
  });

  it("refuses a feature normalisation it does not know, naming the two it does", async () => {
    const message = await refusal((m) => (m.features.normalization = "per-speaker"));
    expect(message).toMatch(/features\.normalization.*utterance-mean-in-graph.*global-in-graph/);
  });

  it("refuses a label whose language is not its tag's", async () => {
    const message = await refusal((m) => (m.labels[0].language = "de"));
    expect(message).toMatch(/labels\.0\.language: "de" is not the language of "en-US"/);
  });
});
