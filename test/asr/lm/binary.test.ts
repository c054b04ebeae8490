import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readArpa, readArpaTables } from "../../../services/asr/src/engine/lm/arpa.ts";
import { readLmBinary, writeLmBinary } from "../../../services/asr/src/engine/lm/binary.ts";
import { LmFileError } from "../../../services/asr/src/engine/lm/errors.ts";
import type { LanguageModel, LmState } from "../../../services/asr/src/engine/lm/types.ts";

const TINY = join(import.meta.dirname, "fixtures", "tiny.arpa");

/** Every word after every reachable state, up to depth 3, as (logProb, next state) pairs. */
function allScores(lm: LanguageModel): number[] {
  const out: number[] = [];
  let frontier: LmState[] = [lm.startState, 0];
  for (let depth = 0; depth < 3; depth++) {
    const next: LmState[] = [];
    for (const state of frontier) {
      out.push(lm.endScore(state));
      for (let w = 0; w < lm.vocabularySize; w++) {
        const r = lm.score(state, w);
        out.push(r.logProb, r.state);
        next.push(r.state);
      }
    }
    frontier = [...new Set(next)];
  }
  return out;
}

function binaryOf(arpa: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "lmbin-")), "lm.bin");
  writeLmBinary(readArpaTables(arpa), file);
  return file;
}

function refusal(bytes: Buffer): LmFileError {
  const file = join(mkdtempSync(join(tmpdir(), "lmbin-")), "bad.bin");
  writeFileSync(file, bytes);
  try {
    readLmBinary(file);
  } catch (err) {
    expect(err).toBeInstanceOf(LmFileError);
    expect((err as Error).message).toContain(file);
    return err as LmFileError;
  }
  throw new Error("the damaged binary was accepted");
}

describe("the compact binary", () => {
  it("scores every word after every state exactly as the ARPA model does", () => {
    const fromArpa = readArpa(TINY);
    const fromBinary = readLmBinary(binaryOf(TINY));
    expect(fromBinary.order).toBe(3);
    expect(fromBinary.wordId("the")).toBe(fromArpa.wordId("the"));
    expect(fromBinary.unkId).toBe(fromArpa.unkId);
    expect(fromBinary.startState).toBe(fromArpa.startState);
    expect(allScores(fromBinary)).toEqual(allScores(fromArpa));
  });

  it("keeps a 4-gram model's suffix links", () => {
    const arpa = join(mkdtempSync(join(tmpdir(), "lm4-")), "four.arpa");
    writeFileSync(
      arpa,
      [
        "\\data\\",
        "ngram 1=4",
        "ngram 2=3",
        "ngram 3=2",
        "ngram 4=1",
        "",
        "\\1-grams:",
        "-99\t<s>\t-0.2",
        "-0.5\t</s>",
        "-0.4\ta\t-0.1",
        "-0.6\tb\t-0.3",
        "",
        "\\2-grams:",
        "-0.2\t<s> a\t-0.4",
        "-0.3\ta b\t-0.05",
        "-0.7\tb a\t-0.2",
        "",
        "\\3-grams:",
        "-0.1\t<s> a b\t-0.15",
        "-0.2\ta b a\t-0.3",
        "",
        "\\4-grams:",
        "-0.05\t<s> a b a",
        "",
        "\\end\\",
        "",
      ].join("\n"),
    );
    const fromArpa = readArpa(arpa);
    const fromBinary = readLmBinary(binaryOf(arpa));
    expect(allScores(fromBinary)).toEqual(allScores(fromArpa));
    // <s> a b a </s>: after the 4-gram the state is "a b a"; </s> backs off through "a b a", "b a", "a".
    let state = fromArpa.startState;
    for (const w of ["a", "b", "a"]) state = fromArpa.score(state, fromArpa.wordId(w)).state;
    expect(fromArpa.endScore(state)).toBeCloseTo((-0.3 - 0.2 - 0.1 - 0.5) * Math.LN10, 5);
  });

  it("refuses a truncated file with the offset where it ends", () => {
    const bytes = readFileSync(binaryOf(TINY));
    const err = refusal(bytes.subarray(0, bytes.length - 10));
    expect(err.offset).toBe(bytes.length - 10);
    expect(err.message).toMatch(/truncated/);
  });

  it("refuses a damaged file by its checksum", () => {
    const bytes = Buffer.from(readFileSync(binaryOf(TINY)));
    bytes[bytes.length - 3]! ^= 0x40;
    expect(refusal(bytes).message).toMatch(/checksum .* differs/);
  });

  it("refuses a file of another format", () => {
    expect(refusal(readFileSync(TINY)).message).toMatch(/not a callscribe-ngram binary/);
  });
});
