/** docs/calibration.md documents every field of the column map and of the calibration block (the schemas are the source). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { columnMapSchema } from '../../calibration/column-map.js';
import { calibrationRecordSchema } from '../../scenarios/calibration-record.js';

const page = readFileSync(new URL('../../docs/calibration.md', import.meta.url), 'utf8');

describe('docs/calibration.md', () => {
  it('has a table row for every column-map field and every calibration-block field', () => {
    const mapFields = Object.keys(columnMapSchema.shape);
    expect(mapFields.length).toBeGreaterThan(5);
    for (const field of [...mapFields, ...Object.keys(calibrationRecordSchema.shape)]) expect(page, field).toContain(`| \`${field}\` |`);
  });
});
