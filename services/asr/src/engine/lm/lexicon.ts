import { readFileSync } from "node:fs";
import { LmFileError } from "./errors.ts";
import type { Lexicon } from "./types.ts";

/**
 * A lexicon file: one word per line, `word<TAB>token token …` with the acoustic model's tokens (from
 * tokens.txt) spelling the word, without the word separator. Lines starting with `#` are comments.
 */
export function parseLexicon(
  path: string,
  text: string,
  tokens: readonly string[],
  forbidden: ReadonlySet<number> = new Set(),
): Lexicon {
  const idOf = new Map<string, number>();
  tokens.forEach((token, id) => {
    if (!idOf.has(token)) idOf.set(token, id);
  });
  const words: string[] = [];
  const spellings: Int32Array[] = [];
  const lines = text.split("\n");
  const fix = "rebuild the lexicon for this model's tokens.txt (models/recipes/lm) or remove the word";
  lines.forEach((raw, index) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const lineNo = index + 1;
    if (line.trim() === "" || line.startsWith("#")) return;
    const tab = line.indexOf("\t");
    if (tab <= 0 || tab === line.length - 1)
      throw new LmFileError(
        path,
        { line: lineNo },
        `expected "word<TAB>tokens", found ${JSON.stringify(line.slice(0, 60))}`,
        fix,
      );
    const word = line.slice(0, tab);
    const spelling = line
      .slice(tab + 1)
      .trim()
      .split(/ +/);
    const ids = new Int32Array(spelling.length);
    spelling.forEach((token, i) => {
      const id = idOf.get(token);
      if (id === undefined)
        throw new LmFileError(
          path,
          { line: lineNo },
          `word ${JSON.stringify(word)} is spelled with ${JSON.stringify(token)}, which is not a token of the model`,
          fix,
        );
      if (forbidden.has(id))
        throw new LmFileError(
          path,
          { line: lineNo },
          `word ${JSON.stringify(word)} is spelled with ${JSON.stringify(token)}, the blank or word separator`,
          fix,
        );
      ids[i] = id;
    });
    words.push(word);
    spellings.push(ids);
  });
  if (words.length === 0)
    throw new LmFileError(
      path,
      { line: lines.length },
      "the lexicon has no words",
      "build it with models/recipes/lm",
    );
  return { words, spellings };
}

export function readLexicon(
  path: string,
  tokens: readonly string[],
  forbidden: ReadonlySet<number> = new Set(),
): Lexicon {
  return parseLexicon(path, readFileSync(path, "utf8"), tokens, forbidden);
}

/** The lexicon file of `words` spelled by character with `tokens` (a character model's lexicon). */
export function formatCharacterLexicon(words: readonly string[]): string {
  return words.map((word) => `${word}\t${[...word].join(" ")}\n`).join("");
}
