/**
 * Builds the telephony model's word LM and lexicon: a Kneser-Ney trigram of the hotline text (corpus.py)
 * interpolated with Sphinx's general English trigram (Debian pocketsphinx-en-us), the vocabulary kept to
 * words the model's tokens spell, pruned to a size budget, the weight chosen by perplexity on tuning text.
 * Writes lm.bin (callscribe-ngram) and lexicon.txt into the model folder and its manifest's `decoding`.
 *
 *   npx tsx models/recipes/lm/build.ts [--vocabulary 40000] [--bigrams 500000] [--trigrams 400000]
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { writeArpa } from "../../../services/asr/src/engine/lm/arpa.ts";
import { encodeLmBinary, LM_BINARY_FORMAT } from "../../../services/asr/src/engine/lm/binary.ts";
import { formatCharacterLexicon } from "../../../services/asr/src/engine/lm/lexicon.ts";
import { NgramModel, type NgramTables } from "../../../services/asr/src/engine/lm/ngram-model.ts";
import { readSphinxTrieTables } from "../../../services/asr/src/engine/lm/sphinx-trie.ts";
import { parseTokens } from "../../../services/asr/src/engine/model/vocabulary.ts";
import { Interpolation, selectNgrams } from "./interpolate.ts";
import { kneserNeyTrigram } from "./kneser-ney.ts";
import { replaceJsonMember } from "./manifest-edit.ts";

const HERE = import.meta.dirname;
const { values: args } = parseArgs({
  options: {
    work: { type: "string", default: join(HERE, "work") },
    sphinx: { type: "string", default: "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin" },
    model: { type: "string", default: resolve(HERE, "../../asr-en-telephony") },
    vocabulary: { type: "string", default: "40000" },
    bigrams: { type: "string", default: "500000" },
    trigrams: { type: "string", default: "400000" },
    lambdas: { type: "string", default: "0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9" },
  },
});
const work = args.work!;
const modelDir = args.model!;
const started = performance.now();
const log = (message: string): void =>
  console.log(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${message}`);

const lines = (name: string): string[] =>
  readFileSync(join(work, name), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "");
const manifestPath = join(modelDir, "manifest.json");
const manifestText = readFileSync(manifestPath, "utf8");
const manifest = JSON.parse(manifestText) as { vocabulary: { file: string; blankId: number; spaceToken: string } };
const tokens = parseTokens(readFileSync(join(modelDir, manifest.vocabulary.file), "utf8"));
const letters = new Set(
  tokens.filter((t, id) => id !== manifest.vocabulary.blankId && t !== manifest.vocabulary.spaceToken && [...t].length === 1),
);
const spellable = (word: string): boolean => [...word].every((c) => letters.has(c));

// Held-out text must never be LM text (corpus.py drops it; checked again here on what is read).
const heldout = new Set(lines("heldout.txt"));
for (const name of ["train.txt", "tune-train.txt"])
  for (const line of lines(name))
    if (heldout.has(line)) throw new Error(`${name} holds the held-out transcript ${JSON.stringify(line)}`);

log("domain trigrams (Kneser-Ney)");
const domainTune = kneserNeyTrigram(lines("tune-train.txt"));
const domain = kneserNeyTrigram(lines("train.txt"));
writeArpa(domain, join(work, "domain.arpa"));
log(`domain: ${domain.logProb.map((p) => p.length).join(" / ")} n-grams; general: reading ${args.sphinx}`);
const { tables: general, info: generalInfo } = readSphinxTrieTables(args.sphinx!);
log(`general: ${generalInfo.counts.join(" / ")} n-grams`);

// Vocabulary: markers, every domain word, then the general model's most probable spellable words.
const markers = ["<s>", "</s>", "<unk>"];
function vocabularyFor(domainTables: NgramTables): string[] {
  const words = new Set(markers);
  for (const w of domainTables.words) if (!markers.includes(w) && spellable(w)) words.add(w);
  const byProb = general.words
    .map((w, i) => [w, general.logProb[0]![i]!] as const)
    .filter(([w]) => !markers.includes(w) && spellable(w))
    .sort((a, b) => b[1] - a[1]);
  const limit = Number(args.vocabulary);
  for (const [w] of byProb) {
    if (words.size >= limit) break;
    words.add(w);
  }
  return [...words];
}

function mixtureOf(domainTables: NgramTables): { interpolation: Interpolation; words: string[] } {
  const words = vocabularyFor(domainTables);
  const finalId = new Map(words.map((w, i) => [w, i]));
  const toFinal = (t: NgramTables): Int32Array => Int32Array.from(t.words, (w) => finalId.get(w) ?? -1);
  const fromFinal = (t: NgramTables): Int32Array => {
    const ids = new Map(t.words.map((w, i) => [w, i]));
    return Int32Array.from(words, (w) => ids.get(w) ?? -1);
  };
  const candidates = selectNgrams(domainTables, general, toFinal(domainTables), toFinal(general), {
    bigrams: Number(args.bigrams),
    trigrams: Number(args.trigrams),
  });
  const interpolation = new Interpolation(
    words,
    domainTables,
    general,
    fromFinal(domainTables),
    fromFinal(general),
    candidates,
  );
  return { interpolation, words };
}

/** Perplexity per word (and </s>) of sentences, with words outside the vocabulary scored as <unk>. */
function perplexity(lm: NgramModel, sentences: readonly string[]): { perplexity: number; oov: number; tokens: number } {
  let logProb = 0;
  let count = 0;
  let oov = 0;
  for (const s of sentences) {
    let state = lm.startState;
    for (const w of s.split(" ")) {
      if (lm.exactWordId(w) < 0) oov++;
      const r = lm.score(state, lm.wordId(w));
      logProb += r.logProb;
      state = r.state;
      count++;
    }
    logProb += lm.endScore(state);
    count++;
  }
  return { perplexity: Math.exp(-logProb / count), oov, tokens: count };
}

// The weight minimises the mean log-perplexity of the two tuning sets (generated hotline sentences, and
// real prompts the tuning model never saw), so that neither kind of text dominates the choice.
const devSets = { generated: lines("dev-generated.txt"), prompts: lines("dev-prompts.txt") };
log("tuning the interpolation weight on dev-generated.txt and dev-prompts.txt");
const tuning = mixtureOf(domainTune);
const grid = args.lambdas!.split(",").map(Number);
const results = grid.map((lambda) => {
  const lm = new NgramModel(tuning.interpolation.tablesAt(lambda));
  const generated = perplexity(lm, devSets.generated);
  const prompts = perplexity(lm, devSets.prompts);
  const balanced = Math.sqrt(generated.perplexity * prompts.perplexity);
  log(
    `  λ ${lambda}: perplexity ${generated.perplexity.toFixed(2)} generated, ${prompts.perplexity.toFixed(2)} prompts (${prompts.oov} OOV of ${prompts.tokens}), balanced ${balanced.toFixed(2)}`,
  );
  return { lambda, generated: round(generated.perplexity), prompts: round(prompts.perplexity), balanced: round(balanced) };
});
const best = results.reduce((a, b) => (b.balanced < a.balanced ? b : a));
log(`best λ ${best.lambda}`);
writeArpa(tuning.interpolation.tablesAt(best.lambda), join(work, "tune-mix.arpa"));

log("final mixture");
const final = mixtureOf(domain);
const tables = final.interpolation.tablesAt(best.lambda);
const binary = encodeLmBinary(tables);
const lexiconWords = final.words.filter((w) => !markers.includes(w));
const lexicon = formatCharacterLexicon(lexiconWords);
writeFileSync(join(modelDir, "lm.bin"), binary);
writeFileSync(join(modelDir, "lexicon.txt"), lexicon);
const sha = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");
const counts = tables.logProb.map((p) => p.length);
const decoding = {
  description:
    "word-level CTC prefix beam search over the lexicon fused with the word trigram; greedy CTC (argmax per frame, collapse repeats, drop blank, map \u2581 to space) without it",
  lm: {
    path: "lm.bin",
    format: LM_BINARY_FORMAT,
    order: tables.order,
    vocabularySize: tables.words.length,
    counts,
    bytes: binary.length,
    sha256: sha(binary),
    provenance: {
      recipe: "models/recipes/lm (corpus.py, build.ts)",
      domain: `interpolated Kneser-Ney trigram of ${lines("train.txt").length} sentences: hotline text from models/recipes/asr/textgen.py and the training Asterisk prompt transcripts; no held-out prompt or held-out voice sentence`,
      general: `CMU Sphinx en-us trigram (Debian pocketsphinx-en-us en-us.lm.bin, ${generalInfo.counts.join(" / ")} n-grams), vocabulary cut to the ${Number(args.vocabulary)} most probable words the tokens spell, n-grams pruned by weighted probability change`,
      interpolation: {
        domainWeight: best.lambda,
        tunedOn:
          "mean log-perplexity of generated sentences of another seed and of every fifth training prompt from the third, both left out of the tuning domain model",
        perplexity: results,
      },
    },
  },
  lexicon: {
    path: "lexicon.txt",
    words: lexiconWords.length,
    sha256: sha(lexicon),
    outOfVocabulary: "refuse",
    spelling: "characters of tokens.txt, one token per character, without the word separator",
  },
};
writeFileSync(manifestPath, replaceJsonMember(manifestText, "decoding", decoding));
writeFileSync(
  join(work, "report.json"),
  JSON.stringify({ counts, bytes: binary.length, lexiconWords: lexiconWords.length, tuning: results, best: best.lambda }, null, 2),
);
log(`wrote lm.bin (${(binary.length / 2 ** 20).toFixed(1)} MiB, ${counts.join(" / ")} n-grams), lexicon.txt (${lexiconWords.length} words), manifest decoding`);

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
