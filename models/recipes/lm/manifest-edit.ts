/**
 * Replaces (or appends) one top-level member of a JSON document written with two-space indentation,
 * leaving every other byte as it was (the manifest is also written by the ASR recipe in Python, whose
 * number formatting JSON.stringify does not reproduce).
 */
export function replaceJsonMember(text: string, key: string, value: unknown): string {
  const rendered = JSON.stringify(value, null, 2).replace(/\n/g, "\n  ");
  const marker = `\n  ${JSON.stringify(key)}: `;
  const at = text.indexOf(marker);
  let out: string;
  if (at < 0) {
    const close = text.lastIndexOf("}");
    const body = text.slice(0, close).trimEnd();
    out = `${body},${marker.slice(0)}${rendered}\n}${text.slice(close + 1)}`;
  } else {
    const start = at + marker.length;
    const end = endOfValue(text, start);
    out = text.slice(0, start) + rendered + text.slice(end);
  }
  const parsed = JSON.parse(out) as Record<string, unknown>;
  if (JSON.stringify(parsed[key]) !== JSON.stringify(value)) throw new Error(`replacing ${key} did not round-trip`);
  return out;
}

/** Index just past the JSON value starting at `start`. */
function endOfValue(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') {
        inString = false;
        if (depth === 0) return i + 1;
      }
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return i + 1;
    } else if (depth === 0 && (c === "," || c === "\n")) return i;
  }
  return text.length;
}
