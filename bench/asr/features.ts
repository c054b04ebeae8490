/**
 * Log-mel features in TypeScript: microseconds per 10 ms frame on 60 s of 8 kHz audio.
 *   npx tsx bench/asr/features.ts [rounds=10]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FbankExtractor, computeFbank } from "../../services/asr/src/engine/features/fbank.ts";
import { resolveFeatures } from "../../services/asr/src/engine/model/load.ts";
import { FeatureSpec } from "../../services/asr/src/engine/model/manifest.ts";
import { heldOutStreams, machine, median, modelDir } from "./engine-support.ts";

const rounds = Number(process.argv[2] ?? 10);
const manifest = JSON.parse(readFileSync(join(modelDir, "manifest.json"), "utf8")) as { features: unknown };
const extractor = new FbankExtractor(resolveFeatures(FeatureSpec.parse(manifest.features), 8000));
const [pcm] = await heldOutStreams(1, 60);
const samples = Float32Array.from(pcm!, (v) => v / 32768);
console.log(`features benchmark: 60 s of held-out prompts, ${rounds} rounds; ${machine()}`);
const perFrame: number[] = [];
for (let round = 0; round < rounds; round++) {
  const started = performance.now();
  const { frames } = computeFbank(extractor, samples);
  perFrame.push(((performance.now() - started) * 1000) / frames);
}
console.log(`µs per frame, each round: ${perFrame.map((x) => x.toFixed(2)).join(" / ")}`);
console.log(
  `median of the last ${rounds - 2} rounds (after warm-up): ${median(perFrame.slice(2)).toFixed(2)} µs per frame`,
);
