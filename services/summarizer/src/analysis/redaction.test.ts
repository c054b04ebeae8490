import { describe, expect, it } from "vitest";
import { redactText } from "./redaction.ts";

const redacted = (text: string, context = "") => redactText(text, context).text;

describe("redactText", () => {
  it("redacts numbers said digit by digit, by kind", () => {
    expect(redacted("my number is four one five five five five zero one two three")).toBe(
      "my number is [PHONE]",
    );
    expect(redacted("account number seven seven double four one nine")).toBe("account number [ACCOUNT]");
    expect(
      redacted("the card is four five three two one two three four five six seven eight nine zero one two"),
    ).toBe("the card is [CARD]");
    expect(redacted("call me on oh seven seven triple one two three four five")).toBe("call me on [PHONE]");
    expect(redacted("it is 415-555-0134")).toBe("it is [PHONE]");
  });

  it("redacts spoken and written emails", () => {
    expect(redacted("it's john dot smith at example dot com thanks")).toBe("it's [EMAIL] thanks");
    expect(redacted("j o h n at gmail dot com")).toBe("[EMAIL]");
    expect(redacted("send it to ann.lee@city.gov please")).toBe("send it to [EMAIL] please");
  });

  it("redacts street addresses and dates of birth, using what was asked before", () => {
    expect(redacted("I live at twelve oak tree lane apartment four b")).toBe("I live at [ADDRESS]");
    expect(redacted("it's one twenty three main street")).toBe("it's [ADDRESS]");
    expect(redacted("march third nineteen eighty four", "and your date of birth please")).toBe(
      "[DATE OF BIRTH]",
    );
    expect(redacted("I was born on the fifth of may two thousand and one")).toBe(
      "I was born on the [DATE OF BIRTH]",
    );
  });

  it("keeps quantities, times and street names without a number", () => {
    for (const text of [
      "I waited two hours on the road and paid twenty dollars",
      "there's a pothole on maple street near the school",
      "since nineteen ninety we had no problem",
      "the crew comes at three pm tomorrow",
    ]) {
      expect(redacted(text)).toBe(text);
    }
  });
});
