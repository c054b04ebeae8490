import { sql, type SQL } from "drizzle-orm";
import { transcriptVector, utterances } from "./schema.ts";

/**
 * A WHERE condition matching utterances whose text contains the words of `query`, in web-search
 * syntax ("refund -voucher", "\"cancel my contract\""). Served by the utterances GIN index.
 */
export function utteranceMatches(query: string): SQL {
  return sql`${transcriptVector(utterances.text)} @@ websearch_to_tsquery('english', ${query})`;
}
