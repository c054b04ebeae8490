import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ModelLoadError } from "@callscribe/errors";
import { loadEmotion2vecModel } from "./emotion2vec-model.ts";
import { EmotionManifest, describeManifestIssues } from "./manifest.ts";
import { createProsodyModel } from "./prosody-model.ts";
import type { EmotionModel, LoadModelOptions } from "./types.ts";

/** Reads `manifest.json` and loads the family member its `task` names; any mismatch is a ModelLoadError. */
export async function loadEmotionModel(options: LoadModelOptions): Promise<EmotionModel> {
  const path = join(options.dir, "manifest.json");
  if (!existsSync(path))
    throw new ModelLoadError(`${path} does not exist; point the service at an emotion model folder`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (cause) {
    throw new ModelLoadError(`${path} is not valid JSON: ${String(cause)}`, { cause });
  }
  const parsed = EmotionManifest.safeParse(json);
  if (!parsed.success) throw new ModelLoadError(`${path}: ${describeManifestIssues(parsed.error)}`);
  const manifest = parsed.data;
  let model: EmotionModel;
  if (manifest.task === "emotion2vec") {
    model = await loadEmotion2vecModel(manifest, options);
  } else {
    if (options.provider !== "cpu")
      throw new ModelLoadError(
        `${path}: the prosody model is signal processing on the CPU; set the provider to cpu`,
      );
    model = createProsodyModel(manifest);
  }
  options.logger.info({ model: model.info }, "emotion model loaded");
  return model;
}
