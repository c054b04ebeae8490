import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ModelLoadError } from "@callscribe/errors";
import { ConfigError } from "@callscribe/config";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../services/emotion/src/config.ts";
import { loadEmotionModel } from "../../services/emotion/src/model/load.ts";
import { e2vModelDir, prosodyModelDir, silentLogger } from "./support.ts";

const folders: string[] = [];
afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A copy of a model folder whose manifest has been changed by `edit`. */
function withManifest(source: string, edit: (manifest: Record<string, unknown>) => void): string {
  const dir = mkdtempSync(join(tmpdir(), "emotion-model-"));
  folders.push(dir);
  cpSync(source, dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Record<string, unknown>;
  edit(manifest);
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
  return dir;
}

async function loadError(dir: string): Promise<string> {
  try {
    const model = await loadEmotionModel({ dir, provider: "cpu", logger: silentLogger });
    await model.close();
  } catch (err) {
    expect(err).toBeInstanceOf(ModelLoadError);
    return (err as Error).message;
  }
  throw new Error(`${dir} loaded, but should have been refused`);
}

type Tensor = { name: string; dtype: string; shape: (string | number)[] };

describe("emotion model loading", () => {
  it("loads the committed emotion2vec-style model with its 9 classes and embedding", async () => {
    const model = await loadEmotionModel({ dir: e2vModelDir, provider: "cpu", logger: silentLogger });
    try {
      expect(model.info.task).toBe("emotion2vec");
      const [a, b] = await model.classify([
        {
          samples: new Float32Array(16000).map((_, i) => Math.sin(i / 9) * 0.3),
          speaker: model.newSpeaker(),
        },
        { samples: new Float32Array(8000).map((_, i) => Math.sin(i / 9) * 0.3), speaker: model.newSpeaker() },
      ]);
      expect(a!.scores).toHaveLength(9);
      expect(a!.embedding).toHaveLength(64);
      // The lengths input masks padding: a shorter segment of the same tone scores as it would alone
      // (to the last frame, whose context convolution sees one frame of the padding).
      const [alone] = await model.classify([
        { samples: new Float32Array(8000).map((_, i) => Math.sin(i / 9) * 0.3), speaker: model.newSpeaker() },
      ]);
      alone!.scores.forEach((s, i) => expect(b!.scores[i]!.score).toBeCloseTo(s.score, 3));
    } finally {
      await model.close();
    }
  });

  it("refuses an emotion2vec manifest that disagrees with its graph, naming the mismatch", async () => {
    const renamed = withManifest(e2vModelDir, (m) => {
      (m.inputs as Tensor[])[0]!.name = "source";
    });
    expect(await loadError(renamed)).toMatch(
      /input "source" is declared but the graph's inputs are "waveform", "lengths"/,
    );
    expect(await loadError(renamed)).toMatch(/the graph needs input "waveform"/);

    const wrongEmbedding = withManifest(e2vModelDir, (m) => {
      (m.outputs as Tensor[])[1]!.shape = ["N", 768];
    });
    expect(await loadError(wrongEmbedding)).toMatch(
      /output "embedding" dim 1 is 64 in the graph, declared 768/,
    );

    const wrongRank = withManifest(e2vModelDir, (m) => {
      (m.inputs as Tensor[])[0]!.shape = ["N", 1, "T"];
    });
    expect(await loadError(wrongRank)).toMatch(/input "waveform" has rank 2 in the graph, declared rank 3/);

    const missingClass = withManifest(e2vModelDir, (m) => {
      (m.labels as string[])[8] = "bored";
    });
    expect(await loadError(missingClass)).toMatch(/labels: must be the 9 classes angry, disgusted/);

    const wrongType = withManifest(e2vModelDir, (m) => {
      (m.inputs as Tensor[])[1]!.dtype = "int32";
    });
    expect(await loadError(wrongType)).toMatch(/input "lengths" is int64 in the graph, declared int32/);
  });

  it("refuses a prosody manifest with a missing or invalid field, naming it", async () => {
    const noScale = withManifest(prosodyModelDir, (m) => {
      delete (m.scales as Record<string, number>).logRate;
    });
    expect(await loadError(noScale)).toMatch(/scales\.logRate/);
    const bands = withManifest(prosodyModelDir, (m) => {
      m.bands = { calm: 0.5, agitated: 0.2 };
    });
    expect(await loadError(bands)).toMatch(/bands\.calm/);
    await expect(
      loadEmotionModel({ dir: prosodyModelDir, provider: "cuda", logger: silentLogger }),
    ).rejects.toThrow(/signal processing on the CPU/);
  });

  it("config names EMOTION_MODEL_DIR and other bad variables", () => {
    expect(() => loadConfig({ EMOTION_MODEL_DIR: "/nonexistent/emotion" })).toThrow(ConfigError);
    expect(() => loadConfig({ EMOTION_MODEL_DIR: "/nonexistent/emotion" })).toThrow(
      /EMOTION_MODEL_DIR: no manifest\.json/,
    );
    expect(() => loadConfig({ EMOTION_MAX_SEGMENT_S: "0" })).toThrow(/EMOTION_MAX_SEGMENT_S/);
    expect(() => loadConfig({ EMOTION_EXECUTION_PROVIDER: "tpu" })).toThrow(/EMOTION_EXECUTION_PROVIDER/);
    expect(loadConfig({}).maxSegmentMs).toBe(30_000);
  });
});
