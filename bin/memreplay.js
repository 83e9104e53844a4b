#!/usr/bin/env node
// Launcher: runs the compiled CLI (npm ci builds dist/ through the "prepare" script).
import { main } from '../dist/cli/main.js';

// A closed pipe (memreplay generate … | head) ends the output quietly, as Unix tools do.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await main(process.argv.slice(2));
