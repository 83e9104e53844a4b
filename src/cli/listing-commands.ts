/** `policies` and `pools`: what models there are. */
import type { CommandModule } from 'yargs';
import { COMMANDS } from './command-list.js';
import { listPolicies } from '../gc/index.js';
import { listPools } from '../pool/index.js';

export const policiesCommand: CommandModule<object, { json: boolean }> = {
  ...COMMANDS.policies,
  builder: (y) => y.option('json', { type: 'boolean', default: false, describe: 'print as JSON' }),
  handler: (args) => {
    const rows = listPolicies();
    if (args.json) {
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return;
    }
    const lines = ['policy                  covers                thresholds    free lists'];
    for (const r of rows) {
      lines.push(`${r.name.padEnd(24)}${r.covers.padEnd(22)}${(r.defaultThresholds.join('/') || '–').padEnd(14)}${r.freeLists}`);
    }
    lines.push('', 'A policy name with a full version (cpython-3.12.1) selects the model of that release;', 'cpython-X.Y means the latest patch release of X.Y.');
    process.stdout.write(`${lines.join('\n')}\n`);
  },
};

export const poolsCommand: CommandModule<object, { json: boolean }> = {
  ...COMMANDS.pools,
  builder: (y) => y.option('json', { type: 'boolean', default: false, describe: 'print as JSON' }),
  handler: (args) => {
    const pools = listPools();
    if (args.json) {
      process.stdout.write(`${JSON.stringify(pools, null, 2)}\n`);
      return;
    }
    const lines: string[] = [];
    for (const pool of pools) {
      lines.push(`${pool.name} — ${pool.description}`, `  models: ${pool.releases}`);
      for (const param of pool.params) lines.push(`  --pool-param ${param.name}=${param.default}`.padEnd(40) + ` ${param.doc}`);
      lines.push('');
    }
    lines.push('--pool none replays without an allocator model (free lists still shape the collector counts).');
    process.stdout.write(`${lines.join('\n')}\n`);
  },
};

