#!/usr/bin/env node
// Launcher: runs the compiled CLI (npm ci builds dist/ through the "prepare" script).
import { main } from '../dist/cli/main.js';

// A closed pipe (memreplay generate … | head) ends the output quietly, as Unix tools do; any
// other failure to write stdout (a full disk: > /dev/full) is said in one line, exit 2.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  process.stderr.write(`memreplay: cannot write to stdout: ${error.message}\n`);
  process.exit(2);
});

process.exitCode = await main(process.argv.slice(2));
