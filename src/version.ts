import { createRequire } from 'node:module';

/** memreplay's version, from package.json (one level above both `src/` and `dist/`). */
export const TOOL_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
