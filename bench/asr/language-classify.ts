/**
 * Language-ID cost per utterance: each model folder classifies the held-out prompts of test/fixtures/language
 * (1.5-4 s of speech each) one at a time, as the ASR worker does on a leg's first utterances.
 *   npx tsx bench/asr/language-classify.ts [--rounds 20] [--threads 1] [model folder ...]
 * Default folder: models/language-id. Prints the median milliseconds per utterance and the audio seconds
 * classified per wall-clock second, after one untimed warm-up round.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { readWavFile } from "@callscribe/audio";
import { loadLanguageModel } from "../../services/asr/src/language/index.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const fixturesDir = join(repoRoot, "test/fixtures/language");

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: "string", default: "20" }, threads: { type: "string", default: "1" } },
});
const dirs = positionals.length > 0 ? positionals : [join(repoRoot, "models/language-id")];
const { items } = JSON.parse(readFileSync(join(fixturesDir, "fixtures.json"), "utf8")) as {
  items: { file: string }[];
};
const prompts = await Promise.all(
  items.map(async ({ file }) => {
    const wav = await readWavFile(join(fixturesDir, file));
    return Float32Array.from(wav.samples[0]!, (v) => v / 32768);
  }),
);
const audioSeconds = prompts.reduce((s, p) => s + p.length, 0) / 8000;

for (const dir of dirs) {
  const model = await loadLanguageModel({ dir, provider: "cpu", intraOpThreads: Number(values.threads) });
  for (const p of prompts) await model.classify(p);
  const perUtterance: number[] = [];
  const t0 = performance.now();
  for (let r = 0; r < Number(values.rounds); r++)
    for (const p of prompts) {
      const start = performance.now();
      await model.classify(p);
      perUtterance.push(performance.now() - start);
    }
  const wall = (performance.now() - t0) / 1000;
  perUtterance.sort((a, b) => a - b);
  const median = perUtterance[Math.floor(perUtterance.length / 2)]!;
  const speed = (audioSeconds * Number(values.rounds)) / wall;
  console.log(
    `${model.manifest.name} ${model.manifest.version}: ${prompts.length} prompts (${audioSeconds.toFixed(1)} s), ` +
      `median ${median.toFixed(1)} ms per utterance, ${speed.toFixed(0)} audio s per s (${values.threads} thread)`,
  );
  await model.close();
}
