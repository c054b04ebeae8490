import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { parseTaxonomy, TaxonomyError, type Taxonomy } from "./analysis/index.ts";

/** Reads and checks the hotline's taxonomy file; a TaxonomyError says what to fix. */
export async function loadTaxonomyFile(path: string): Promise<Taxonomy> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new TaxonomyError(
      `cannot read the taxonomy ${path}; set SUMMARIZER_TAXONOMY to a readable YAML file`,
      {
        cause,
      },
    );
  }
  return parseTaxonomy(text, basename(path));
}
