import { execFile } from "node:child_process";
import { access, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const fixtureDir = fileURLToPath(new URL(".", import.meta.url));

export const soxInstalled = await run("sox", ["--version"]).then(
  () => true,
  () => false,
);

/**
 * What sox writes to `output` when run with `args` in a folder holding `inputs`. Without sox the copy
 * committed next to this file stands in; with sox, a missing copy is written once, so that machines
 * without sox (Debian's `sox` package) still compare against real sox output.
 */
export async function soxReference(
  output: string,
  args: string[],
  inputs: Record<string, Uint8Array> = {},
): Promise<Uint8Array> {
  const fixture = join(fixtureDir, output);
  if (!soxInstalled) return new Uint8Array(await readFile(fixture));
  const workDir = await mkdtemp(join(tmpdir(), "callscribe-sox-"));
  try {
    for (const [name, bytes] of Object.entries(inputs)) await writeFile(join(workDir, name), bytes);
    await run("sox", args, { cwd: workDir });
    const produced = new Uint8Array(await readFile(join(workDir, output)));
    const committed = await access(fixture).then(
      () => true,
      () => false,
    );
    if (!committed) await writeFile(fixture, produced);
    return produced;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
