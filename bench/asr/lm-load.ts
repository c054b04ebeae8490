/**
 * Word LM load time and resident memory, each case in a fresh process:
 *   npx tsx bench/asr/lm-load.ts [--rounds 3] [--arpa file.arpa]
 * Cases: nothing loaded (the process's own baseline); the Sphinx en-us trigram (Debian pocketsphinx-en-us,
 * read and turned into the n-gram trie); the model folder's compact binary (lm.bin); an ARPA file when
 * given; and the whole model folder (loadAsrModel, FP32 on the CPU) with and without its decoding section.
 * Load time is the median of --rounds loads in one process (the first included); RSS is measured after the
 * first load, against the same process before it.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { loadAsrModel } from "../../services/asr/src/engine/index.ts";
import { readArpa, readLmBinary, readSphinxTrie } from "../../services/asr/src/engine/lm/index.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const modelDir = join(repoRoot, "models/asr-en-telephony");
const SPHINX = "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    arpa: { type: "string" },
    case: { type: "string" },
    dir: { type: "string" },
  },
});

interface Measured {
  case: string;
  loadMs: number[];
  rssBeforeMiB: number;
  rssAfterMiB: number;
  detail: string;
}

const mib = (bytes: number): number => bytes / 2 ** 20;

async function runCase(name: string): Promise<Measured> {
  const rounds = Number(values.rounds);
  const keep: unknown[] = [];
  let detail = "";
  const load = async (): Promise<void> => {
    if (name === "baseline") return;
    if (name === "sphinx") {
      const lm = readSphinxTrie(SPHINX);
      detail = `${lm.vocabularySize} words`;
      keep.push(lm);
    } else if (name === "binary") {
      const lm = readLmBinary(join(modelDir, "lm.bin"));
      detail = `${lm.vocabularySize} words, ${lm.tables.logProb.map((p) => p.length).join(" / ")} n-grams`;
      keep.push(lm);
    } else if (name === "arpa") {
      const lm = readArpa(values.arpa!);
      detail = `${lm.vocabularySize} words`;
      keep.push(lm);
    } else {
      const model = await loadAsrModel({
        dir: values.dir!,
        provider: "cpu",
        precision: "fp32",
        logger: pino({ level: "silent" }),
      });
      detail = model.languageModel
        ? `LM ${model.languageModel.vocabularySize} words, lexicon ${model.lexicon!.words.length}`
        : "no LM";
      keep.push(model);
    }
  };
  global.gc?.();
  const before = process.memoryUsage().rss;
  const times: number[] = [];
  let after = before;
  for (let r = 0; r < rounds; r++) {
    const started = performance.now();
    await load();
    times.push(performance.now() - started);
    if (r === 0) {
      global.gc?.();
      after = process.memoryUsage().rss;
    }
    // Each round loads afresh; the previous load is released.
    const loaded = keep.pop() as { close?: () => Promise<void> } | undefined;
    await loaded?.close?.();
  }
  return { case: name, loadMs: times, rssBeforeMiB: mib(before), rssAfterMiB: mib(after), detail };
}

if (values.case) {
  const result = await runCase(values.case);
  console.log(JSON.stringify(result));
  process.exit(0);
}

// A copy of the model folder without the decoding section, for the "without" case.
const bare = mkdtempSync(join(tmpdir(), "lm-load-"));
cpSync(modelDir, bare, { recursive: true });
const manifest = JSON.parse(readFileSync(join(bare, "manifest.json"), "utf8")) as Record<string, unknown>;
delete manifest.decoding;
writeFileSync(join(bare, "manifest.json"), JSON.stringify(manifest, null, 2));

const cases: [string, string[]][] = [
  ["baseline", []],
  ["sphinx", []],
  ["binary", []],
  ...(values.arpa ? ([["arpa", ["--arpa", values.arpa]]] as [string, string[]][]) : []),
  ["model-with-lm", ["--dir", modelDir]],
  ["model-without-lm", ["--dir", bare]],
];
const rows: Measured[] = [];
for (const [name, extra] of cases) {
  const out = execFileSync(
    process.execPath,
    [
      ...process.execArgv,
      "--expose-gc",
      fileURLToPath(import.meta.url),
      "--case",
      name,
      "--rounds",
      values.rounds!,
      ...extra,
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  rows.push(JSON.parse(out.trim().split("\n").at(-1)!) as Measured);
}
rmSync(bare, { recursive: true, force: true });

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `machine: ${cpus()[0]?.model} x ${cpus().length}, node ${process.version}, ${new Date().toISOString()}`,
);
console.log("| case | load (median of rounds) | first load | RSS before | RSS after | RSS added | what |");
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const r of rows) {
  console.log(
    `| ${r.case} | ${(median(r.loadMs) / 1000).toFixed(2)} s | ${(r.loadMs[0]! / 1000).toFixed(2)} s | ${r.rssBeforeMiB.toFixed(0)} MiB | ${r.rssAfterMiB.toFixed(0)} MiB | ${(r.rssAfterMiB - r.rssBeforeMiB).toFixed(0)} MiB | ${r.detail} |`,
  );
}
