/** A CTC vocabulary read from sherpa-onnx's tokens.txt (`<token> <id>` per line). */
export interface Vocabulary {
  /** Token text by id; the space token is kept as written (e.g. "▁"). */
  readonly tokens: readonly string[];
  readonly blankId: number;
  readonly spaceId: number;
  /** What each token contributes to the transcript: "" for blank, " " for the space token. */
  readonly surface: readonly string[];
  /** Surface character → token id, for tokenising hotword phrases. */
  readonly idOfChar: ReadonlyMap<string, number>;
}

export class TokensFileError extends Error {
  override readonly name = "TokensFileError";
}

/** Parses tokens.txt; ids must be 0..n-1, each once. */
export function parseTokens(text: string): string[] {
  const tokens: string[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    if (line.trim() === "") return;
    // The token may itself be a space in some exports, so split at the last space only.
    const at = line.lastIndexOf(" ");
    if (at <= 0)
      throw new TokensFileError(`line ${index + 1} is not "<token> <id>": ${JSON.stringify(line)}`);
    const token = line.slice(0, at);
    const idText = line.slice(at + 1);
    if (!/^\d+$/.test(idText))
      throw new TokensFileError(`line ${index + 1}: id ${JSON.stringify(idText)} is not a number`);
    const id = Number(idText);
    if (tokens[id] !== undefined) throw new TokensFileError(`line ${index + 1}: id ${id} appears twice`);
    tokens[id] = token;
  });
  for (let id = 0; id < tokens.length; id++) {
    if (tokens[id] === undefined)
      throw new TokensFileError(`id ${id} is missing (ids must run from 0 to ${tokens.length - 1})`);
  }
  return tokens;
}

export function createVocabulary(tokens: readonly string[], blankId: number, spaceToken: string): Vocabulary {
  const spaceId = tokens.indexOf(spaceToken);
  const surface = tokens.map((token, id) => {
    if (id === blankId) return "";
    if (id === spaceId) return " ";
    // SentencePiece-style word-start marker inside a longer piece means a space before it.
    return token.replaceAll("▁", " ");
  });
  const idOfChar = new Map<string, number>();
  surface.forEach((text, id) => {
    if (text.length > 0 && !idOfChar.has(text)) idOfChar.set(text, id);
  });
  return { tokens, blankId, spaceId, surface, idOfChar };
}
