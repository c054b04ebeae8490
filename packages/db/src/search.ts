import { sql, type SQL } from "drizzle-orm";
import { tickets, transcriptVector, utterances } from "./schema.ts";

/**
 * A WHERE condition matching utterances whose text contains the words of `query`, in web-search
 * syntax ("refund -voucher", "\"cancel my contract\""). Served by the utterances GIN index.
 */
export function utteranceMatches(query: string): SQL {
  return sql`${transcriptVector(utterances.text)} @@ websearch_to_tsquery('english', ${query})`;
}

/**
 * A WHERE condition matching tickets whose redacted transcript contains the words of `query`
 * (web-search syntax). Served by the tickets' GIN index on the stored `transcript_search` vector.
 */
export function ticketMatches(query: string): SQL {
  return sql`${tickets.transcriptSearch} @@ websearch_to_tsquery('english', ${query})`;
}
