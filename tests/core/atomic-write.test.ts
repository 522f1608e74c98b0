import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomically } from '../../core/atomic-write.js';

let folder = '';
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'pricelab-atomic-'));
});
afterEach(() => rmSync(folder, { recursive: true, force: true }));

describe('writeFileAtomically', () => {
  it('writes text and bytes whole, replacing the file, and leaves no temporary file', () => {
    const path = join(folder, 'out.json');
    writeFileAtomically(path, 'first');
    writeFileAtomically(path, new Uint8Array([104, 105]));
    expect(readFileSync(path, 'utf8')).toBe('hi');
    expect(readdirSync(folder)).toEqual(['out.json']);
  });

  it('removes its temporary file when the rename fails, and leaves the target as it was', () => {
    const target = join(folder, 'taken');
    mkdirSync(join(target, 'inside'), { recursive: true });
    expect(() => writeFileAtomically(target, 'text')).toThrow();
    expect(readdirSync(folder)).toEqual(['taken']);
    expect(readdirSync(target)).toEqual(['inside']);
  });

  it('fails on a missing folder without creating it', () => {
    expect(() => writeFileAtomically(join(folder, 'missing', 'out.txt'), 'text')).toThrow(/ENOENT/);
    expect(readdirSync(folder)).toEqual([]);
  });
});
