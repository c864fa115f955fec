#!/usr/bin/env node
/**
 * The command's entry point, bundled into lib/sysbox-runc.js. Docker starts the runtime three
 * times per container, so the calls its shim makes take a path that loads only what they need;
 * everything else loads the full command line from lib/sysbox-runc-full.js. Started with
 * `--warm-worker`, it waits for a launcher's command instead (see warm.ts).
 */
import * as path from 'node:path';
import { parseFast, runFast } from './fast';
import { serveWarm } from './warm';

async function entry(argv: string[]): Promise<number> {
  // What the runtime makes (state, mount points, cgroups) gets the modes it asks for, whatever
  // the caller's umask; the container's processes get theirs from config.json.
  process.umask(0o022);
  const fast = parseFast(argv.slice(2));
  if (fast) return runFast(fast);
  const full = require(path.join(__dirname, 'sysbox-runc-full.js')) as typeof import('./main');
  return full.main(argv);
}

function warmFd(arg: string | undefined): number | undefined | null {
  if (arg === '--warm-worker') return undefined;
  const m = /^--warm-worker=(\d+)$/.exec(arg ?? '');
  return m ? Number(m[1]) : null;
}

const fd = warmFd(process.argv[2]);
const script = path.resolve(process.argv[1]);
const done = fd === null ? entry(process.argv) : serveWarm(script, fd, entry);
done.then((code) => process.exit(code));
