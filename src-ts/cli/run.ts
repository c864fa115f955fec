#!/usr/bin/env node
/**
 * The command's entry point, bundled into lib/sysbox-runc.js. Docker starts the runtime three
 * times per container, so the calls its shim makes take a path that loads only what they need;
 * everything else loads the full command line from lib/sysbox-runc-full.js.
 */
import * as path from 'node:path';
import { parseFast, runFast } from './fast';

async function entry(argv: string[]): Promise<number> {
  const fast = parseFast(argv.slice(2));
  if (fast) return runFast(fast);
  const full = require(path.join(__dirname, 'sysbox-runc-full.js')) as typeof import('./main');
  return full.main(argv);
}

entry(process.argv).then((code) => process.exit(code));
