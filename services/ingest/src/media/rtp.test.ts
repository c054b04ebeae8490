import { describe, expect, it } from "vitest";
import { RtpFormatError, encodeRtp, parseRtp, type RtpFormatReason } from "./rtp.ts";

function header(fields: { b0: number; pt?: number; seq?: number }, rest: number[]): Uint8Array {
  return Uint8Array.from([
    fields.b0,
    fields.pt ?? 0,
    (fields.seq ?? 0) >> 8,
    (fields.seq ?? 0) & 0xff,
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    2,
    ...rest,
  ]);
}

function reason(bytes: Uint8Array): RtpFormatReason | "parsed" {
  try {
    parseRtp(bytes);
    return "parsed";
  } catch (err) {
    if (err instanceof RtpFormatError) return err.reason;
    throw err;
  }
}

describe("encodeRtp / parseRtp", () => {
  it("round-trips the fixed header at the edges of each field", () => {
    const payload = Uint8Array.from([1, 2, 3]);
    for (const fields of [
      { payloadType: 0, seq: 0, timestamp: 0, ssrc: 0, marker: false },
      { payloadType: 127, seq: 65535, timestamp: 0xffffffff, ssrc: 0xffffffff, marker: true },
      { payloadType: 9, seq: 12345, timestamp: 0x80000000, ssrc: 0x12345678, marker: false },
    ]) {
      const p = parseRtp(encodeRtp({ ...fields, payload }));
      expect(p).toMatchObject({ ...fields, padding: false, csrc: [] });
      expect([...p.payload]).toEqual([1, 2, 3]);
      expect(p.extension).toBeUndefined();
    }
  });

  it("reads CSRCs, a header extension and padding, and leaves them out of the payload", () => {
    const bytes = header({ b0: 0x80 | 0x20 | 0x10 | 2, pt: 0x80 | 8, seq: 7 }, [
      0,
      0,
      0,
      10,
      0,
      0,
      0,
      11, // two CSRCs
      0xbe,
      0xde,
      0,
      1,
      0x10,
      0xaa,
      0,
      0, // one-word extension (RFC 8285 one-byte form)
      9,
      8,
      7, // payload
      0,
      0,
      3, // three octets of padding, the last one counting them
    ]);
    const p = parseRtp(bytes);
    expect(p.csrc).toEqual([10, 11]);
    expect(p.extension?.profile).toBe(0xbede);
    expect([...p.extension!.data]).toEqual([0x10, 0xaa, 0, 0]);
    expect([...p.payload]).toEqual([9, 8, 7]);
    expect(p).toMatchObject({ marker: true, payloadType: 8, seq: 7, timestamp: 1, ssrc: 2, padding: true });
  });

  it("rejects each kind of malformed header with its reason", () => {
    expect(reason(new Uint8Array(11))).toBe("too-short");
    expect(reason(header({ b0: 0x40 }, []))).toBe("bad-version");
    expect(reason(header({ b0: 0xc0 }, []))).toBe("bad-version");
    expect(reason(header({ b0: 0x80 | 15 }, [1, 2, 3, 4]))).toBe("csrc-past-end");
    expect(reason(header({ b0: 0x90 }, [0xbe, 0xde]))).toBe("extension-past-end");
    expect(reason(header({ b0: 0x90 }, [0xbe, 0xde, 0xff, 0xff, 1, 2, 3, 4]))).toBe("extension-past-end");
    expect(reason(header({ b0: 0xa0 }, [1, 2, 200]))).toBe("padding-past-end");
    expect(reason(header({ b0: 0xa0 }, [1, 2, 0]))).toBe("zero-padding");
    // Padding may take the whole payload, and an empty payload is fine.
    expect(reason(header({ b0: 0xa0 }, [0, 2]))).toBe("parsed");
    expect(reason(header({ b0: 0x80 }, []))).toBe("parsed");
  });

  it("never throws anything but RtpFormatError on random bytes, and never reads past the end", () => {
    let seed = 1;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) / 16777216;
    for (let n = 0; n < 20_000; n++) {
      const bytes = new Uint8Array(Math.floor(random() * 64));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
      if (bytes.length > 0 && random() < 0.7) bytes[0] = 0x80 | (bytes[0]! & 0x3f); // mostly version 2
      const r = reason(bytes);
      if (r === "parsed") {
        const p = parseRtp(bytes);
        expect(p.payload.byteOffset + p.payload.length).toBeLessThanOrEqual(bytes.byteOffset + bytes.length);
      }
    }
  });
});
