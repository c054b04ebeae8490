import { createHash } from "node:crypto";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ModelLoadError } from "@callscribe/errors";
import { loadAsrModel } from "../../../services/asr/src/engine/index.ts";
import { readArpaTables } from "../../../services/asr/src/engine/lm/arpa.ts";
import { encodeLmBinary } from "../../../services/asr/src/engine/lm/binary.ts";
import { buildTables } from "../../../services/asr/src/engine/lm/trie-builder.ts";
import { copyModel, silentLogger } from "../engine/support.ts";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const TINY = join(import.meta.dirname, "fixtures", "tiny.arpa");
const sha256 = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/**
 * A copy of the model folder with the tiny ARPA model compiled to lm.bin, a lexicon of `lexicon` lines,
 * and a decoding section that `edit` may change.
 */
function folder(
  lexicon = "the\tt h e\nmeter\tm e t e r\n",
  edit: (decoding: Json, dir: string) => void = () => {},
): string {
  const copy = copyModel();
  cleanups.push(copy.remove);
  writeFileSync(join(copy.dir, "lm.bin"), encodeLmBinary(readArpaTables(TINY)));
  writeFileSync(join(copy.dir, "lexicon.txt"), lexicon);
  const decoding: Json = {
    lm: {
      path: "lm.bin",
      format: "callscribe-ngram",
      order: 3,
      vocabularySize: 5,
      sha256: sha256(join(copy.dir, "lm.bin")),
    },
    lexicon: { path: "lexicon.txt", sha256: sha256(join(copy.dir, "lexicon.txt")) },
  };
  edit(decoding, copy.dir);
  const path = join(copy.dir, "manifest.json");
  const manifest = JSON.parse(readFileSync(path, "utf8")) as Json;
  manifest.decoding = decoding;
  writeFileSync(path, JSON.stringify(manifest, null, 2));
  return copy.dir;
}

async function refusal(dir: string): Promise<string> {
  try {
    const model = await loadAsrModel({ dir, provider: "cpu", precision: "fp32", logger: silentLogger });
    await model.close();
  } catch (err) {
    expect(err).toBeInstanceOf(ModelLoadError);
    return (err as Error).message;
  }
  throw new Error("the model loaded, but it should have been refused");
}

describe("a model folder's language model and lexicon", () => {
  it("are loaded once and exposed to the decoder", async () => {
    const model = await loadAsrModel({
      dir: folder(),
      provider: "cpu",
      precision: "fp32",
      logger: silentLogger,
    });
    try {
      const lm = model.languageModel!;
      expect(lm.order).toBe(3);
      expect(lm.score(lm.startState, lm.wordId("the")).logProb).toBeCloseTo(-0.3 * Math.LN10, 5);
      expect(model.lexicon!.words).toEqual(["the", "meter"]);
      const tokens = model.spec.vocabulary.tokens;
      expect([...model.lexicon!.spellings[1]!].map((id) => tokens[id]).join("")).toBe("meter");
    } finally {
      await model.close();
    }
  });

  it("are absent when the manifest only describes greedy decoding", async () => {
    const copy = copyModel();
    cleanups.push(copy.remove);
    const path = join(copy.dir, "manifest.json");
    const manifest = JSON.parse(readFileSync(path, "utf8")) as Json;
    manifest.decoding = "greedy CTC";
    writeFileSync(path, JSON.stringify(manifest));
    const model = await loadAsrModel({
      dir: copy.dir,
      provider: "cpu",
      precision: "fp32",
      logger: silentLogger,
    });
    expect(model.languageModel).toBeNull();
    expect(model.lexicon).toBeNull();
    await model.close();
  });

  it("refuse a lexicon word spelled with a character outside tokens.txt, naming word, line and fix", async () => {
    const message = await refusal(folder("the\tt h e\ncafé\tc a f é\n"));
    expect(message).toMatch(
      /lexicon\.txt:2: word "café" is spelled with "é", which is not a token of the model; rebuild the lexicon/,
    );
  });

  it("refuse a lexicon spelling with the word separator", async () => {
    expect(await refusal(folder("the meter\tt h e ▁ m e t e r\n"))).toMatch(
      /lexicon\.txt:1: .*the blank or word separator/,
    );
  });

  it("refuse lexicon words the LM does not know, unless they are to be scored as <unk>", async () => {
    const lexicon = "the\tt h e\ngas\tg a s\n";
    expect(await refusal(folder(lexicon))).toMatch(
      /1 word\(s\) are not in the LM's vocabulary, the first "gas" .*outOfVocabulary to "unk"/,
    );
    const dir = folder(lexicon, (d) => {
      d.lexicon.outOfVocabulary = "unk";
    });
    const model = await loadAsrModel({ dir, provider: "cpu", precision: "fp32", logger: silentLogger });
    expect(model.lexicon!.words).toContain("gas");
    await model.close();
  });

  it("refuse a file whose sha256 differs from the manifest's", async () => {
    const dir = folder(undefined, (d, at) => {
      writeFileSync(join(at, "lexicon.txt"), "meter\tm e t e r\n");
    });
    expect(await refusal(dir)).toMatch(
      /decoding\.lexicon\.sha256: lexicon\.txt has sha256 [0-9a-f]{64}, the manifest declares/,
    );
  });

  it("refuse an LM of another order than declared", async () => {
    expect(await refusal(folder(undefined, (d) => (d.lm.order = 4)))).toMatch(
      /decoding\.lm\.order is 4, lm\.bin is a 3-gram model/,
    );
  });

  it("refuse a missing or truncated LM file with its name and offset", async () => {
    expect(await refusal(folder(undefined, (d) => (d.lm.path = "absent.bin")))).toMatch(
      /decoding\.lm\.path: absent\.bin is missing/,
    );
    const dir = folder(undefined, (d, at) => {
      const bytes = readFileSync(join(at, "lm.bin"));
      writeFileSync(join(at, "cut.bin"), bytes.subarray(0, bytes.length - 8));
      d.lm.path = "cut.bin";
      delete d.lm.sha256;
    });
    expect(await refusal(dir)).toMatch(
      /cut\.bin at byte \d+: the file ends at byte \d+ of the \d+ its header declares \(truncated\)/,
    );
  });

  it("refuse an LM without the </s> unigram", async () => {
    const dir = folder(undefined, (d, at) => {
      const noEnd = buildTables(
        ["<s>", "the", "meter"],
        new Float32Array([-99, -0.5, -0.9]),
        new Float32Array(3),
        [],
      );
      writeFileSync(join(at, "one.bin"), encodeLmBinary(noEnd));
      d.lm = { path: "one.bin", format: "callscribe-ngram", order: 1 };
    });
    expect(await refusal(dir)).toMatch(
      /one\.bin: the model has no <\/s> unigram; rebuild it with sentence markers/,
    );
  });

  it("read an ARPA file the deployment brings", async () => {
    const dir = folder(undefined, (d, at) => {
      copyFileSync(TINY, join(at, "own.arpa"));
      d.lm = { path: "own.arpa", format: "arpa", order: 3 };
    });
    const model = await loadAsrModel({ dir, provider: "cpu", precision: "fp32", logger: silentLogger });
    expect(model.languageModel!.vocabularySize).toBe(5);
    await model.close();
  });
});
