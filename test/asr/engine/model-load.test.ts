import { copyFileSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pcm16ToFloat32 } from "@callscribe/audio";
import { ModelLoadError } from "@callscribe/errors";
import { loadAsrModel, loadVad } from "../../../services/asr/src/engine/index.ts";
import type { AcousticModel } from "../../../services/asr/src/engine/model/acoustic-model.ts";
import {
  copyModel,
  fixtureItems,
  fixturePcm,
  fixturesDir,
  modelDir,
  silentLogger,
  streamAlone,
} from "./support.ts";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function brokenCopy(edit: (manifest: Json, dir: string) => void, files?: string[]): string {
  const copy = copyModel(files);
  cleanups.push(copy.remove);
  const path = join(copy.dir, "manifest.json");
  const manifest = JSON.parse(readFileSync(path, "utf8")) as Json;
  edit(manifest, copy.dir);
  writeFileSync(path, JSON.stringify(manifest, null, 2));
  return copy.dir;
}

async function refusal(
  dir: string,
  precision: "fp32" | "int8" = "fp32",
  provider: "cpu" | "cuda" = "cpu",
): Promise<string> {
  try {
    const model = await loadAsrModel({ dir, provider, precision, logger: silentLogger });
    await model.close();
  } catch (err) {
    expect(err).toBeInstanceOf(ModelLoadError);
    return (err as Error).message;
  }
  throw new Error("the model loaded, but it should have been refused");
}

describe("loadAsrModel", () => {
  it.each(["fp32", "int8"] as const)("loads the committed %s model and reports it", async (precision) => {
    const model = await loadAsrModel({ dir: modelDir, provider: "cpu", precision, logger: silentLogger });
    try {
      expect(model.info).toMatchObject({
        name: "asr-en-telephony",
        language: "en",
        sampleRate: 8000,
        provider: "cpu",
        precision,
        streamingExact: true,
      });
    } finally {
      await model.close();
    }
  });

  it("refuses a manifest whose vocabulary size disagrees with tokens.txt", async () => {
    const dir = brokenCopy((m) => (m.vocabulary.size = 30));
    expect(await refusal(dir)).toMatch(
      /^model asr-en-telephony: .*vocabulary\.size 30, vocabulary \(tokens\.txt\) has 29 tokens/,
    );
  });

  it("refuses a tokens.txt that lost a token (the output is wider than the vocabulary)", async () => {
    const dir = brokenCopy((_m, d) => {
      const lines = readFileSync(join(d, "tokens.txt"), "utf8").trim().split("\n");
      writeFileSync(join(d, "tokens.txt"), lines.slice(0, -1).join("\n") + "\n");
    });
    expect(await refusal(dir)).toMatch(/vocabulary \(tokens\.txt\) has 28 tokens/);
  });

  it("refuses a feature extractor whose dimension differs from the model input", async () => {
    const dir = brokenCopy((m) => {
      m.features.dim = 64;
      m.features.melBins = 64;
    });
    expect(await refusal(dir)).toMatch(/input "audio_signal" feature dim 80, feature extractor dim 64/);
  });

  it("refuses a declared input dimension the graph does not have", async () => {
    const dir = brokenCopy((m) => {
      m.features.dim = 64;
      m.features.melBins = 64;
      m.inputs[0].shape[1] = 64;
    });
    expect(await refusal(dir)).toMatch(/input "audio_signal" dim 1 is 80 in the graph, declared 64/);
  });

  it("refuses an input name the graph does not have", async () => {
    const dir = brokenCopy((m) => (m.inputs[0].name = "features"));
    const message = await refusal(dir);
    expect(message).toMatch(
      /input "features" is declared but the graph's inputs are "audio_signal", "length"/,
    );
    expect(message).toMatch(/the graph needs input "audio_signal", which the manifest does not declare/);
  });

  it("refuses a declared output rank or type the graph does not have", async () => {
    const dir = brokenCopy((m) => {
      m.outputs[0].shape = ["N", "T'"];
      m.outputs[1].dtype = "int32";
    });
    const message = await refusal(dir);
    expect(message).toMatch(/output "logprobs" has rank 3 in the graph, declared rank 2/);
    expect(message).toMatch(/output "logprobs_length" is int64 in the graph, declared int32/);
  });

  it("refuses a blank id outside the vocabulary and a missing space token", async () => {
    const dir = brokenCopy((m) => {
      m.vocabulary.blankId = 40;
      m.vocabulary.spaceToken = "|";
    });
    const message = await refusal(dir);
    expect(message).toMatch(/blank id 40 is out of range \(tokens\.txt has 29 tokens\)/);
    expect(message).toMatch(/space token "\|" is not in tokens\.txt/);
  });

  it("refuses a subsampling factor the model does not have", async () => {
    const dir = brokenCopy((m) => (m.subsampling = 4));
    const message = await refusal(dir);
    expect(message).toMatch(/ONNX metadata subsampling_factor 2, manifest subsampling 4/);
  });

  it("refuses missing files and an invalid manifest", async () => {
    expect(await refusal(brokenCopy(() => undefined, ["manifest.json", "tokens.txt"]))).toMatch(
      /fp32 model file model\.onnx is missing/,
    );
    expect(
      await refusal(
        brokenCopy(() => undefined, ["manifest.json", "tokens.txt", "model.onnx"]),
        "int8",
      ),
    ).toMatch(/int8 model file model\.int8\.onnx is missing/);
    expect(await refusal(brokenCopy(() => undefined, ["manifest.json", "model.onnx"]))).toMatch(
      /vocabulary file tokens\.txt is missing/,
    );
    expect(await refusal(brokenCopy((m) => (m.task = "asr-rnnt")))).toMatch(
      /manifest\.json: task: Invalid literal value, expected "asr-ctc"/,
    );
    expect(await refusal(brokenCopy((m) => (m.features.dither = 1)))).toMatch(
      /dither 1: recognition features must be deterministic/,
    );
  });

  describe("with deliberately broken graphs (test/fixtures/asr/broken)", () => {
    const withGraph = (file: string): string =>
      brokenCopy(
        (_m, dir) => copyFileSync(join(fixturesDir, "broken", file), join(dir, "model.onnx")),
        ["manifest.json", "tokens.txt"],
      );

    it("refuses an output wider than the vocabulary, found by the dry run", async () => {
      expect(await refusal(withGraph("wide_output.onnx"))).toBe(
        'model asr-en-telephony: output "logprobs" width 30, vocabulary (tokens.txt) has 29 tokens',
      );
    });

    it("refuses raw logits where log-probabilities are required", async () => {
      expect(await refusal(withGraph("logits_output.onnx"))).toMatch(
        /output "logprobs" is not log-probabilities .* must end with log_softmax/,
      );
    });

    it("refuses a time subsampling other than the manifest's", async () => {
      expect(await refusal(withGraph("subsampling4.onnx"))).toMatch(
        /output "logprobs" has 24 frames \(24 valid\) for 96 input frames; subsampling 2 gives 48/,
      );
    });
  });

  it("refuses the cuda provider when onnxruntime-node has no CUDA binaries, naming what to install", async () => {
    const message = await refusal(modelDir, "fp32", "cuda");
    expect(message).toMatch(/execution provider cuda is not available/);
    expect(message).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12/);
    await expect(loadVad({ provider: "cuda", logger: silentLogger })).rejects.toThrow(
      /Silero VAD: execution provider cuda is not available/,
    );
  });

  it("loads a published sherpa-onnx NeMo CTC folder (model.onnx + tokens.txt, no manifest)", async () => {
    const dir = brokenCopy(() => undefined);
    rmSync(join(dir, "manifest.json"));
    const model = await loadAsrModel({
      dir,
      provider: "cpu",
      precision: "fp32",
      sampleRate: 8000,
      logger: silentLogger,
    });
    try {
      // Without a declared receptive field chunking cannot be exact.
      expect(model.info).toMatchObject({ sampleRate: 8000, streamingExact: false, language: "und" });
    } finally {
      await model.close();
    }
  });

  it("loads a published sherpa-onnx online NeMo CTC folder (a cache-aware model.onnx + tokens.txt, no manifest)", async () => {
    const copy = copyModel(["tokens.txt", "model.streaming.onnx"]);
    cleanups.push(copy.remove);
    renameSync(join(copy.dir, "model.streaming.onnx"), join(copy.dir, "model.onnx"));
    const published = (await loadAsrModel({
      dir: copy.dir,
      provider: "cpu",
      precision: "fp32",
      sampleRate: 8000,
      logger: silentLogger,
    })) as AcousticModel;
    const ours = (await loadAsrModel({
      dir: modelDir,
      provider: "cpu",
      precision: "fp32",
      logger: silentLogger,
    })) as AcousticModel;
    try {
      expect(published.info).toMatchObject({ sampleRate: 8000, streamingExact: true, language: "und" });
      const cacheAware = published.spec.cacheAware!;
      // The metadata's window (window_size 24, chunk_shift 24) and the caches, outputs taken by position.
      expect(cacheAware.windowFrames).toBe(24);
      expect(cacheAware.lookaheadFrames).toBe(0);
      expect(cacheAware.states.map((st) => [st.input, st.output, st.itemShape])).toEqual(
        ours.spec.cacheAware!.states.map((st) => [st.input, st.output, st.itemShape]),
      );
      // Both folders hear a prompt the same way.
      const samples = pcm16ToFloat32(await fixturePcm(fixtureItems()[0]!.file));
      // Both from the extractor's features.
      expect((await streamAlone(published, samples, false)).tokens).toBe(
        (await streamAlone(ours, samples, false)).tokens,
      );
    } finally {
      await published.close();
      await ours.close();
    }
  });

  it("streams with the committed model's cache-aware graph unless the whole-utterance graph is asked for", async () => {
    const model = (await loadAsrModel({
      dir: modelDir,
      provider: "cpu",
      precision: "fp32",
      logger: silentLogger,
    })) as AcousticModel;
    const whole = (await loadAsrModel({
      dir: modelDir,
      provider: "cpu",
      precision: "fp32",
      graph: "offline",
      logger: silentLogger,
    })) as AcousticModel;
    try {
      expect(model.spec.cacheAware?.states.map((s) => [s.input, s.output, s.dtype])).toEqual([
        ["cache_last_channel", "cache_last_channel_next", "float32"],
        ["cache_last_time", "cache_last_time_next", "float32"],
        ["cache_last_channel_len", "cache_last_channel_len_next", "int64"],
      ]);
      expect(model.spec.cacheAware?.lookaheadFrames).toBe(0);
      expect(whole.spec.cacheAware).toBeNull();
      expect(whole.spec.receptiveField).toMatchObject({ right: 1 });
    } finally {
      await model.close();
      await whole.close();
    }
  });

  const streamingFiles = ["manifest.json", "tokens.txt", "model.streaming.onnx"];

  it("refuses a streaming state whose per-stream shape differs from the graph", async () => {
    const dir = brokenCopy((m) => {
      m.streaming.inputs[3].shape[2] += 4;
      m.streaming.outputs[3].shape[2] += 4;
    }, streamingFiles);
    expect(await refusal(dir)).toMatch(/input "cache_last_time" dim 2 is \d+ in the graph, declared \d+/);
  });

  it("refuses a streaming state whose output shape differs from its input's", async () => {
    const dir = brokenCopy((m) => {
      m.streaming.outputs[3].shape[2] += 4;
    }, streamingFiles);
    expect(await refusal(dir)).toMatch(
      /streaming state output "cache_last_time_next" is declared \[N, \d+, \d+, \d+\], its input "cache_last_time" \[N, /,
    );
  });

  it("refuses a streaming state paired with an output the manifest does not declare", async () => {
    const dir = brokenCopy((m) => {
      m.streaming.states[1].output = "cache_next";
    }, streamingFiles);
    expect(await refusal(dir)).toMatch(
      /streaming state cache_last_time -> cache_next: output "cache_next" is not declared/,
    );
  });

  it("refuses a streaming graph that needs a state the manifest does not declare", async () => {
    const dir = brokenCopy((m) => {
      m.streaming.inputs.splice(4, 1);
      m.streaming.outputs.splice(4, 1);
      m.streaming.states.splice(2, 1);
    }, streamingFiles);
    expect(await refusal(dir)).toMatch(
      /the graph needs input "cache_last_channel_len", which the manifest does not declare/,
    );
  });

  it("refuses the streaming graph when the manifest declares none", async () => {
    const dir = brokenCopy(() => undefined);
    await expect(
      loadAsrModel({ dir, provider: "cpu", precision: "fp32", graph: "streaming", logger: silentLogger }),
    ).rejects.toThrow(/a cache-aware streaming graph was requested but the manifest declares none/);
  });
});
