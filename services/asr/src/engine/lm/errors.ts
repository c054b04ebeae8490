/**
 * A language-model or lexicon file that cannot be used: malformed, truncated or inconsistent. The message
 * names the file, the line (text files) or byte offset (binary files), and what to do about it.
 */
export class LmFileError extends Error {
  override readonly name = "LmFileError";
  readonly file: string;
  readonly line: number | null;
  readonly offset: number | null;

  constructor(
    file: string,
    where: { line?: number; offset?: number },
    problem: string,
    fix: string,
    options?: { cause?: unknown },
  ) {
    const at =
      where.line !== undefined
        ? `:${where.line}`
        : where.offset !== undefined
          ? ` at byte ${where.offset}`
          : "";
    super(`${file}${at}: ${problem}; ${fix}`, options);
    this.file = file;
    this.line = where.line ?? null;
    this.offset = where.offset ?? null;
  }
}
