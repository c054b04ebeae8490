import { closeSync, openSync, readSync } from "node:fs";

/**
 * Reads a text file line by line in fixed-size chunks (a language model can be hundreds of megabytes):
 * yields each line without its end-of-line and its 1-based number. UTF-8 sequences split between chunks
 * are joined before decoding.
 */
export function* readLines(path: string, chunkBytes = 1 << 20): Generator<[string, number]> {
  const fd = openSync(path, "r");
  try {
    const decoder = new TextDecoder("utf-8", { fatal: false });
    const buffer = Buffer.allocUnsafe(chunkBytes);
    let carry = "";
    let lineNo = 0;
    for (;;) {
      const read = readSync(fd, buffer, 0, chunkBytes, null);
      const text = carry + decoder.decode(buffer.subarray(0, read), { stream: read > 0 });
      if (read === 0) {
        if (text.length > 0) yield [stripCr(text), ++lineNo];
        return;
      }
      let start = 0;
      for (;;) {
        const end = text.indexOf("\n", start);
        if (end < 0) break;
        yield [stripCr(text.slice(start, end)), ++lineNo];
        start = end + 1;
      }
      carry = text.slice(start);
    }
  } finally {
    closeSync(fd);
  }
}

function stripCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}
