#!/usr/bin/env node
'use strict';
// Runs the benchmark scenarios in bench/scenarios/ and prints, for each, the median time of
// sysbox-runc and of runc measured in the same run, alternating trial by trial so that both see
// the same machine, and their ratio. Usage: sudo node bench/run.js [--trials N] [name...]
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function parseArgs(argv) {
  const args = { trials: 15, names: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--trials') args.trials = Number(argv[++i]);
    else args.names.push(argv[i]);
  }
  if (!Number.isInteger(args.trials) || args.trials < 1) throw new Error('--trials must be >= 1');
  return args;
}

/**
 * Each trial starts on a quiet machine: what one trial leaves running (the warm worker that a
 * sysbox-runc command starts for the next one, a container's last exit) must not be timed as
 * part of the next trial, of either runtime.
 */
const settleMs = 150;
const settle = () => new Promise((resolve) => setTimeout(resolve, settleMs));

async function runScenario(s, trials) {
  const ctx = await s.setup();
  const times = Object.fromEntries(s.runtimes.map((r) => [r, []]));
  try {
    // One untimed round first: caches and page cache warm up for both alike.
    for (const r of s.runtimes) await s.trial(ctx, r, -1);
    for (let i = 0; i < trials; i++) {
      for (const r of i % 2 ? [...s.runtimes].reverse() : s.runtimes) {
        await settle();
        times[r].push(await s.trial(ctx, r, i));
      }
    }
  } finally {
    await s.teardown(ctx);
  }
  const medians = Object.fromEntries(s.runtimes.map((r) => [r, median(times[r])]));
  return { name: s.name, description: s.description, trials, medians, times };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const dir = path.join(__dirname, 'scenarios');
  const scenarios = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .map((f) => require(path.join(dir, f)))
    .filter((s) => args.names.length === 0 || args.names.includes(s.name));
  const cpu = os.cpus()[0].model;
  const memory = Math.round(os.totalmem() / 2 ** 30);
  const machine = `${os.cpus().length} × ${cpu}, ${memory} GiB, Linux ${os.release()}`;
  const results = [];
  for (const s of scenarios) {
    process.stderr.write(`bench: ${s.name} (${args.trials} trials per runtime)\n`);
    results.push(await runScenario(s, args.trials));
  }
  const cold = 'sysbox-runc, no worker';
  const lines = [
    `Machine: ${machine}`,
    '',
    '| scenario | sysbox-runc median (ms) | runc median (ms) | ratio | without a warm worker |',
    '|---|---|---|---|---|',
  ];
  for (const r of results) {
    const ratio = r.medians['sysbox-runc'] / r.medians.runc;
    r.ratio = ratio;
    const noWorker =
      cold in r.medians
        ? `${r.medians[cold].toFixed(1)} ms, ${(r.medians[cold] / r.medians.runc).toFixed(2)}×`
        : 'not measured';
    lines.push(
      `| ${r.name} | ${r.medians['sysbox-runc'].toFixed(1)} | ${r.medians.runc.toFixed(1)} | ` +
        `${ratio.toFixed(2)}× | ${noWorker} |`,
    );
  }
  const out = path.join(__dirname, 'results');
  fs.mkdirSync(out, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  fs.writeFileSync(
    path.join(out, `startup-${stamp}.json`),
    JSON.stringify({ machine, results }, null, 2),
  );
  fs.writeFileSync(path.join(out, `startup-${stamp}.md`), lines.join('\n') + '\n');
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((err) => {
  process.stderr.write(`bench: ${err.message}\n`);
  process.exit(1);
});
