import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateValidatorModule } from '../../src/trace/validator-codegen.js';

describe('trace/validators.generated', () => {
  it('is what validator-codegen.ts makes of the schemas today (run: npm run build && node scripts/generate-validators.mjs)', () => {
    const committed = readFileSync(new URL('../../src/trace/validators.generated.ts', import.meta.url), 'utf8');
    expect(committed === generateValidatorModule(), 'src/trace/validators.generated.ts is stale').toBe(true);
  });
});
