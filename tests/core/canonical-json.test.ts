/** canonicalJson: one text per value whatever the key order; run keys depend on it staying put. */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runKey } from '../../experiments/experiment-file.js';
import { canonicalJson } from '../../core/json-file.js';

/** The same object with its keys inserted in reverse order, all the way down. */
const reversed = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(reversed);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).reverse().map(([key, entry]) => [key, reversed(entry)]));
  return value;
};

describe('canonicalJson', () => {
  it('gives one text whatever the key order, and parses back to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(reversed(value))).toBe(canonicalJson(value));
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('leaves out undefined members, as JSON does', () => {
    expect(canonicalJson({ b: 1, a: undefined, c: { y: [1, 'x'], x: null } })).toBe('{"b":1,"c":{"x":null,"y":[1,"x"]}}');
  });

  it('keeps run keys as they were stored (sha256 of the canonical text, 16 hex digits)', () => {
    expect(runKey({ b: [2, { c: 3 }], a: 1 })).toBe(runKey({ a: 1, b: [2, { c: 3 }] }));
    expect(runKey({ b: [2, { c: 3 }], a: 1 })).toBe(createHash('sha256').update('{"a":1,"b":[2,{"c":3}]}').digest('hex').slice(0, 16));
  });
});
