#!/usr/bin/env node
/**
 * Regenerates src/trace/validators.generated.ts, the ajv validators compiled ahead of time
 * (see src/trace/validator-codegen.ts). Deterministic: running it again gives the same bytes.
 *
 *   npm run build && node scripts/generate-validators.mjs
 *
 * test/trace/validators-generated.test.ts fails when the file is stale.
 */
import { writeFileSync } from 'node:fs';
import { generateValidatorModule } from '../dist/trace/validator-codegen.js';

const target = new URL('../src/trace/validators.generated.ts', import.meta.url);
writeFileSync(target, generateValidatorModule());
process.stdout.write(`wrote ${target.pathname}\n`);
