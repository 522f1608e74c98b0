/**
 * Typed arrays inside JSON checkpoints, packed as base64 of their little-endian bytes:
 * exact to the bit (NaN payloads and -0 included) and about a quarter of the size of a
 * JSON array of numbers (a DQN replay buffer holds millions of floats).
 * Unpacking checks the byte count, so a truncated or foreign string is an integrity error.
 */
import { PricelabError } from '../core/errors.js';

type PackableArray = Float32Array | Int32Array | Uint8Array;
type PackableConstructor<T extends PackableArray> = { new (buffer: ArrayBuffer): T; readonly BYTES_PER_ELEMENT: number; readonly name: string };

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** base64 of the array's bytes. */
export function packArray(values: PackableArray): string {
  if (!littleEndian && values.BYTES_PER_ELEMENT > 1) throw new PricelabError('protocol', 'packed checkpoints expect a little-endian machine, found a big-endian one');
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

/** The array of `length` elements packed in `text`; an integrity error (at `path`) if the byte count differs. */
export function unpackArray<T extends PackableArray>(text: string, type: PackableConstructor<T>, length: number, path: readonly (string | number)[]): T {
  const bytes = Buffer.from(text, 'base64');
  const expected = length * type.BYTES_PER_ELEMENT;
  if (bytes.byteLength !== expected) {
    throw new PricelabError('integrity', 'a packed array in the checkpoint has the wrong size', [{ path: [...path], message: `expected ${length} values of ${type.name} (${expected} bytes), found ${bytes.byteLength} bytes` }]);
  }
  const buffer = new ArrayBuffer(expected);
  new Uint8Array(buffer).set(bytes);
  return new type(buffer);
}
