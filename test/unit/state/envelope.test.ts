import { describe, expect, it } from 'vitest';
import { canonicalJson, checksumOf, decodeEnvelope, encodeEnvelope } from '../../../src/state/envelope.js';
import { sampleDoc } from './fixtures.js';

describe('canonicalJson', () => {
  it('gives the same text whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 3, e: 4 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [2, { e: 4, f: 3 }] }, b: 1 }),
    );
  });

  it('sorts keys and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, 'x'] })).toBe('{"a":[true,"x"],"b":1}');
  });
});

describe('decodeEnvelope', () => {
  it('accepts what encodeEnvelope wrote', () => {
    const decoded = decodeEnvelope(Buffer.from(encodeEnvelope({ schemaVersion: 1, epoch: 3, x: 'y' })));
    expect(decoded).toEqual({
      isValid: true,
      envelope: {
        schemaVersion: 1,
        epoch: 3,
        sha256: checksumOf({ schemaVersion: 1, epoch: 3, x: 'y' }),
        body: { schemaVersion: 1, epoch: 3, x: 'y' },
      },
    });
  });

  it('calls an empty file empty', () => {
    expect(decodeEnvelope(new Uint8Array())).toEqual({ isValid: false, reason: 'is empty' });
  });

  it('refuses an envelope whose epoch disagrees with its body', () => {
    const text = encodeEnvelope({ schemaVersion: 1, epoch: 3 }).replace(
      '"epoch": 3,\n  "sha256"',
      '"epoch": 4,\n  "sha256"',
    );
    expect(decodeEnvelope(Buffer.from(text))).toEqual({
      isValid: false,
      reason: "has an envelope that disagrees with its body's version or epoch",
    });
  });

  it('detects every single-bit flip of a state file', () => {
    const bytes = Buffer.from(encodeEnvelope(sampleDoc(12)));
    const undetected: string[] = [];
    for (let offset = 0; offset < bytes.length; offset += 1) {
      for (let bit = 0; bit < 8; bit += 1) {
        const flipped = Buffer.from(bytes);
        flipped[offset] = (flipped[offset] ?? 0) ^ (1 << bit);
        if (decodeEnvelope(flipped).isValid) undetected.push(`byte ${offset} bit ${bit}`);
      }
    }
    expect(undetected).toEqual([]);
  });
});
