import { closeSync, openSync, writeSync } from "node:fs";
import { LmFileError } from "./errors.ts";
import { readLines } from "./line-reader.ts";
import { NgramModel, SENTENCE_END, SENTENCE_START, type NgramTables } from "./ngram-model.ts";
import { TrieBuildError, buildTables } from "./trie-builder.ts";

const LN10 = Math.LN10;
const FIX_ARPA = "regenerate the ARPA file (KenLM lmplz, SRILM ngram-count) or copy it again in full";

/**
 * Reads an ARPA back-off model (as KenLM and SRILM write it) line by line: log10 scores become natural
 * logs, a missing back-off is 0. Anything malformed, truncated or inconsistent is an LmFileError naming
 * the line.
 */
export function readArpa(path: string): NgramModel {
  return new NgramModel(readArpaTables(path));
}

export function readArpaTables(path: string): NgramTables {
  type Section = "preamble" | "data" | "ngrams" | "end";
  let section: Section = "preamble";
  const declared: number[] = [];
  let level = -1;
  let filled = 0;
  let sectionLine = 0;
  const words: string[] = [];
  const ids = new Map<string, number>();
  let uniProb = new Float32Array(0);
  let uniBackoff = new Float32Array(0);
  const lists: {
    words: Int32Array;
    logProb: Float32Array;
    backoff: Float32Array | null;
    lines: Int32Array;
  }[] = [];
  let lastLine = 0;
  const fail = (line: number, problem: string, fix = FIX_ARPA): never => {
    throw new LmFileError(path, { line }, problem, fix);
  };
  const finishSection = (line: number): void => {
    if (level >= 0 && filled !== declared[level])
      fail(
        line,
        `the \\${level + 1}-grams: section (line ${sectionLine}) has ${filled} entries, \\data\\ declares ${declared[level]}`,
      );
  };

  for (const [raw, lineNo] of readLines(path)) {
    lastLine = lineNo;
    const line = raw.trim();
    if (section === "preamble") {
      if (line === "\\data\\") section = "data";
      continue;
    }
    if (section === "end") {
      if (line !== "") fail(lineNo, "text after \\end\\");
      continue;
    }
    if (line === "") continue;
    if (section === "data") {
      const m = /^ngram\s+(\d+)\s*=\s*(\d+)$/.exec(line);
      if (m) {
        const n = Number(m[1]);
        if (n !== declared.length + 1)
          fail(lineNo, `"ngram ${n}=" out of order (expected ngram ${declared.length + 1}=)`);
        declared.push(Number(m[2]));
        continue;
      }
      if (!line.startsWith("\\"))
        fail(lineNo, `expected "ngram N=count" in \\data\\, found ${JSON.stringify(clip(line))}`);
      if (declared.length === 0) fail(lineNo, "\\data\\ declares no n-gram counts");
      if (declared[0] === 0) fail(lineNo, "\\data\\ declares no unigrams");
      uniProb = new Float32Array(declared[0]!);
      uniBackoff = new Float32Array(declared[0]!);
      for (let k = 1; k < declared.length; k++) {
        const n = declared[k]!;
        lists.push({
          words: new Int32Array(n * (k + 1)),
          logProb: new Float32Array(n),
          backoff: k < declared.length - 1 ? new Float32Array(n) : null,
          lines: new Int32Array(n),
        });
      }
      section = "ngrams";
    }
    // section === "ngrams"
    if (line.startsWith("\\")) {
      finishSection(lineNo);
      if (line === "\\end\\") {
        if (level !== declared.length - 1)
          fail(lineNo, `\\end\\ after the ${level + 1}-grams; the \\${level + 2}-grams: section is missing`);
        section = "end";
        continue;
      }
      const m = /^\\(\d+)-grams:$/.exec(line);
      if (!m) fail(lineNo, `unknown section header ${JSON.stringify(clip(line))}`);
      const n = Number(m![1]);
      if (n !== level + 2) fail(lineNo, `\\${n}-grams: out of order (expected \\${level + 2}-grams:)`);
      if (n > declared.length)
        fail(lineNo, `\\${n}-grams: but \\data\\ declares only ${declared.length} orders`);
      level = n - 1;
      filled = 0;
      sectionLine = lineNo;
      continue;
    }
    if (level < 0) fail(lineNo, `n-gram line before any \\N-grams: header`);
    const fields = line.split(/\s+/);
    const k = level + 1;
    const hasBackoff = fields.length === k + 2;
    if (fields.length !== k + 1 && !hasBackoff)
      fail(
        lineNo,
        `a ${k}-gram line needs a log10 probability, ${k} word(s) and an optional back-off, found ${fields.length} fields`,
      );
    if (hasBackoff && level === declared.length - 1)
      fail(lineNo, `a back-off weight on a highest-order (${k}-gram) entry`);
    if (filled >= declared[level]!)
      fail(lineNo, `more ${k}-grams than the ${declared[level]} that \\data\\ declares`);
    const prob = parseLog10(fields[0]!);
    if (prob === null || prob > 1e-6)
      fail(lineNo, `probability ${JSON.stringify(fields[0])} is not a log10 probability (a number ≤ 0)`);
    let bo = 0;
    if (hasBackoff) {
      const b = parseLog10(fields[k + 1]!);
      if (b === null) fail(lineNo, `back-off ${JSON.stringify(fields[k + 1])} is not a number`);
      bo = b!;
    }
    if (level === 0) {
      const word = fields[1]!;
      if (ids.has(word)) fail(lineNo, `unigram ${JSON.stringify(word)} appears twice`);
      ids.set(word, words.length);
      uniProb[words.length] = Math.max(prob!, -99) * LN10;
      uniBackoff[words.length] = bo * LN10;
      words.push(word);
    } else {
      const list = lists[level - 1]!;
      for (let i = 0; i < k; i++) {
        const id = ids.get(fields[1 + i]!);
        if (id === undefined) fail(lineNo, `word ${JSON.stringify(fields[1 + i])} is not among the unigrams`);
        list.words[filled * k + i] = id!;
      }
      list.logProb[filled] = prob! * LN10;
      if (list.backoff) list.backoff[filled] = bo * LN10;
      list.lines[filled] = lineNo;
    }
    filled++;
  }
  if (section === "preamble")
    fail(lastLine, "no \\data\\ header: this is not an ARPA file", "give an ARPA language model");
  if (section !== "end") {
    finishSection(lastLine);
    fail(lastLine, "the file ends before \\end\\ (truncated)");
  }
  for (const marker of [SENTENCE_START, SENTENCE_END])
    if (!ids.has(marker)) fail(sectionLine, `no ${marker} unigram`, "build the model with sentence markers");
  try {
    return buildTables(words, uniProb, uniBackoff, lists);
  } catch (err) {
    if (err instanceof TrieBuildError) {
      const line = lists[err.level - 1]!.lines[err.index]!;
      throw new LmFileError(
        path,
        { line },
        `this ${err.level + 1}-gram is inconsistent: ${err.message}`,
        FIX_ARPA,
      );
    }
    throw err;
  }
}

function parseLog10(field: string): number | null {
  const value = Number(field);
  if (Number.isNaN(value)) return null;
  // -inf (SRILM writes it for impossible events) stays as -99, like KenLM's reader.
  if (value === -Infinity) return -99;
  return Number.isFinite(value) ? value : null;
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/** Writes tables as ARPA (log10, 6 decimals), n-grams in trie order. */
export function writeArpa(tables: NgramTables, path: string): void {
  const fd = openSync(path, "w");
  try {
    let buffered: string[] = [];
    const out = (s: string): void => {
      buffered.push(s);
      if (buffered.length >= 4096) {
        writeSync(fd, buffered.join(""));
        buffered = [];
      }
    };
    const fmt = (x: number): string => (x / LN10).toFixed(6);
    out("\\data\\\n");
    tables.logProb.forEach((p, k) => out(`ngram ${k + 1}=${p.length}\n`));
    const top = tables.order - 1;
    const prefix: string[] = [];
    for (let level = 0; level < tables.order; level++) {
      out(`\n\\${level + 1}-grams:\n`);
      const visit = (lv: number, node: number): void => {
        const word = lv === 0 ? tables.words[node]! : tables.words[tables.lastWord[lv]![node]!]!;
        prefix.push(word);
        if (lv === level) {
          const bo = lv < top ? tables.backoff[lv]![node]! : 0;
          out(`${fmt(tables.logProb[lv]![node]!)}\t${prefix.join(" ")}${lv < top ? `\t${fmt(bo)}` : ""}\n`);
        } else {
          const fc = tables.firstChild[lv]!;
          for (let c = fc[node]!; c < fc[node + 1]!; c++) visit(lv + 1, c);
        }
        prefix.pop();
      };
      for (let w = 0; w < tables.words.length; w++) visit(0, w);
    }
    out("\n\\end\\\n");
    writeSync(fd, buffered.join(""));
  } finally {
    closeSync(fd);
  }
}
