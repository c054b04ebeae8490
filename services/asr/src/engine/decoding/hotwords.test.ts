import { describe, expect, it } from "vitest";
import { createVocabulary } from "../model/vocabulary.ts";
import { HotwordGraph, tokenizePhrase } from "./hotwords.ts";

const vocabulary = createVocabulary(["▁", "'", ..."abcdefghijklmnopqrstuvwxyz", "<blk>"], 28, "▁");
const ids = (s: string): number[] => [...s].map((c) => (c === " " ? 0 : vocabulary.idOfChar.get(c)!));

describe("HotwordGraph", () => {
  it("tokenises phrases to characters, lower-cased, spaces collapsed, unknown characters dropped", () => {
    expect(tokenizePhrase("  Account   Number! ", vocabulary)).toEqual(ids("account number"));
  });

  it("earns the boost per matched token and keeps a completed phrase", () => {
    const graph = HotwordGraph.build([{ phrase: "abc", boost: 2 }], vocabulary);
    let node = graph.root;
    let total = 0;
    for (const token of ids("xabcx")) {
      const step = graph.step(node, token);
      total += step.delta;
      node = step.node;
    }
    expect(total).toBe(6);
    expect(graph.finalDelta(node)).toBe(0);
  });

  it("gives back a failed partial match, falling back to the longest matching suffix", () => {
    const graph = HotwordGraph.build(
      [
        { phrase: "abcd", boost: 1 },
        { phrase: "bce", boost: 1 },
      ],
      vocabulary,
    );
    let node = graph.root;
    let total = 0;
    for (const token of ids("abc")) {
      const step = graph.step(node, token);
      total += step.delta;
      node = step.node;
    }
    expect(total).toBe(3);
    // "e" breaks "abcd" but "bc" + "e" completes "bce": 3 tokens of bce are kept.
    const step = graph.step(node, ids("e")[0]!);
    expect(total + step.delta).toBe(3);
    expect(step.node).toBe(graph.root);
    // An unfinished match is given back at the end.
    const partial = graph.step(graph.root, ids("a")[0]!);
    expect(graph.finalDelta(partial.node)).toBe(-1);
  });
});
