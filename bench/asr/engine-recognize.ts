/**
 * recognize() (whole files, no partial results) over the 112 held-out Asterisk prompts:
 *   npx tsx bench/asr/engine-recognize.ts
 * Finals-only streams use a larger chunk (finalsOnlyChunkMs, default 4000) than streams with partials
 * (chunkMs 240): every chunk carries the receptive field's 165 + 165 frames of context, so fewer, larger
 * chunks recompute less. Compared here against 240 ms chunks, one file at a time at max batch 1 and all
 * files at once at max batch 32. Transcripts are identical in every setting (exact chunking); checked below.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readWavFile } from "@callscribe/audio";
import { Recognizer } from "../../services/asr/src/engine/engine.ts";
import { loadBenchModel, loadBenchVad, logger, machine, repoRoot, table } from "./engine-support.ts";

const names = readFileSync(join(repoRoot, "models/recipes/asr/heldout_real.txt"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));
const files = await Promise.all(
  names.map(async (n) => (await readWavFile(`/usr/share/asterisk/sounds/en/${n}.wav`)).samples[0]!),
);
const audioSeconds = files.reduce((n, f) => n + f.length, 0) / 8000;
const vad = await loadBenchVad();
const rows: Array<Array<string | number>> = [];
console.log(
  `engine recognize() benchmark: ${files.length} held-out prompts, ${audioSeconds.toFixed(1)} s of audio`,
);
console.log(`machine: ${machine()}`);
for (const precision of ["fp32", "int8"] as const) {
  const model = await loadBenchModel(precision);
  let reference: string[] | null = null;
  for (const finalsOnlyChunkMs of [240, 4000]) {
    for (const maxBatch of [1, 32]) {
      const engine = new Recognizer({
        model,
        vad,
        logger,
        options: {
          maxBatch,
          maxWaitMs: 10,
          maxStreams: 200,
          maxQueuedChunks: 1_000_000,
          chunkMs: 240,
          finalsOnlyChunkMs,
        },
      });
      const started = performance.now();
      const results =
        maxBatch === 1
          ? await files.reduce<Promise<string[]>>(
              async (done, f) => [...(await done), text(await engine.recognize(f, { sampleRate: 8000 }))],
              Promise.resolve([]),
            )
          : (await Promise.all(files.map((f) => engine.recognize(f, { sampleRate: 8000 })))).map(text);
      const seconds = (performance.now() - started) / 1000;
      const stats = engine.stats();
      await engine.close();
      reference ??= results;
      const same = results.filter((r, i) => r === reference![i]).length;
      rows.push([
        precision,
        finalsOnlyChunkMs,
        maxBatch === 1 ? "1, one file at a time" : "32, all files at once",
        seconds.toFixed(2),
        (audioSeconds / seconds).toFixed(1),
        stats.batches,
        stats.meanBatchSize.toFixed(1),
        `${same} / ${files.length}`,
      ]);
      console.log(
        `  ${precision} chunk ${finalsOnlyChunkMs} ms batch ${maxBatch}: ${(audioSeconds / seconds).toFixed(1)} audio-s/s (${machine()})`,
      );
    }
  }
  await model.close();
}
await vad.close();
console.log();
console.log(
  table(
    [
      "model",
      "finals-only chunk ms",
      "max batch",
      "wall s",
      "audio-s/s",
      "forward passes",
      "mean batch",
      "transcripts = first row",
    ],
    rows,
  ),
);
console.log(`after: ${machine()}`);

function text(events: Array<{ text: string }>): string {
  return events.map((e) => e.text).join(" ");
}
