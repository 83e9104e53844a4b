/**
 * Runs the memreplay CLI of a checkout in this process and reports its peak memory: the
 * benchmark's way to read a child's maximum resident set size, which Node does not expose for
 * children. Usage: node bench/child.js ROOT ARGS… (ROOT holds the built dist/). It writes one JSON
 * line `{"exitCode":…,"maxRssBytes":…}` to file descriptor 3 when the process exits.
 */
import { writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join, resolve } from 'node:path';

const [root, ...args] = process.argv.slice(2);
const { main } = await import(pathToFileURL(join(resolve(root), 'dist', 'cli', 'main.js')).href);

process.on('exit', (code) => {
  // `maxRSS` is in kibibytes and covers every thread of the process (the decode worker too).
  writeSync(3, `${JSON.stringify({ exitCode: code, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`);
});
process.exitCode = await main(args);
