import { describe, expect, it } from "vitest";
import { TokensFileError, createVocabulary, parseTokens } from "./vocabulary.ts";

describe("parseTokens", () => {
  it("reads `<token> <id>` lines in any order", () => {
    expect(parseTokens("b 1\n▁ 0\n<blk> 2\n")).toEqual(["▁", "b", "<blk>"]);
  });

  it("refuses gaps, duplicates and malformed lines", () => {
    expect(() => parseTokens("a 0\nb 2\n")).toThrow(/id 1 is missing/);
    expect(() => parseTokens("a 0\nb 0\n")).toThrow(/appears twice/);
    expect(() => parseTokens("a0\n")).toThrow(TokensFileError);
  });
});

describe("createVocabulary", () => {
  it("maps blank to nothing, the space token to a space and characters to themselves", () => {
    const v = createVocabulary(["▁", "'", "a", "<blk>"], 3, "▁");
    expect(v.surface).toEqual([" ", "'", "a", ""]);
    expect(v.idOfChar.get("a")).toBe(2);
    expect(v.spaceId).toBe(0);
  });
});
