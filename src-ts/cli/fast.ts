/**
 * The calls containerd's shim makes for every container (create, start, state, kill, delete),
 * parsed without commander: loading commander costs more than most of these commands do. Only
 * the argument shapes go-runc produces, and runc's spellings of them, are taken here; anything
 * else, help included, goes to the full command line.
 */
import { Logger, type LogFormat } from '../log';
import { createContainer } from '../runtime/create';
import {
  containerState,
  deleteContainer,
  killContainer,
  parseSignal,
  startContainer,
} from '../runtime/lifecycle';
import { reportError, resolveSettings, type GlobalFlags } from './settings';

type Command = 'create' | 'start' | 'state' | 'kill' | 'delete';

interface FastCall {
  globals: GlobalFlags;
  command: Command;
  flags: Record<string, string | boolean>;
  args: string[];
}

const globalValues = new Set([
  '--root',
  '--log',
  '--log-format',
  '--config',
  '--criu',
  '--inner-docker-image-sharing',
]);
const globalSwitches = new Set(['--debug', '--systemd-cgroup', '--honor-caps']);

const commandFlags: Record<Command, { values: string[]; switches: string[]; args: number[] }> = {
  create: {
    values: ['--bundle', '-b', '--pid-file', '--console-socket'],
    switches: ['--no-pivot', '--no-new-keyring', '--detach', '-d'],
    args: [1],
  },
  start: { values: [], switches: [], args: [1] },
  state: { values: [], switches: [], args: [1] },
  kill: { values: [], switches: ['--all', '-a'], args: [1, 2] },
  delete: { values: [], switches: ['--force', '-f'], args: [1] },
};

/** Splits `--flag=value`; returns undefined for anything this parser does not know. */
export function parseFast(argv: string[]): FastCall | undefined {
  const globals: Record<string, string | boolean> = {};
  let i = 0;
  for (; i < argv.length && argv[i].startsWith('-'); i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    if (globalSwitches.has(flag) && inline === undefined) globals[flag] = true;
    else if (globalValues.has(flag)) {
      const value = inline ?? argv[++i];
      if (value === undefined) return undefined;
      globals[flag] = value;
    } else return undefined;
  }
  const command = argv[i++] as Command;
  const spec = commandFlags[command];
  if (spec === undefined) return undefined;
  const flags: Record<string, string | boolean> = {};
  const args: string[] = [];
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('-') || a === '-') {
      args.push(a);
      continue;
    }
    const [flag, inline] = a.split(/=(.*)/s, 2);
    if (spec.switches.includes(flag) && inline === undefined) flags[flag] = true;
    else if (spec.values.includes(flag)) {
      const value = inline ?? argv[++i];
      if (value === undefined) return undefined;
      flags[flag] = value;
    } else return undefined;
  }
  if (!spec.args.includes(args.length)) return undefined;
  const logFormat = globals['--log-format'];
  if (logFormat !== undefined && logFormat !== 'json' && logFormat !== 'text') return undefined;
  return {
    command,
    flags,
    args,
    globals: {
      root: globals['--root'] as string | undefined,
      log: globals['--log'] as string | undefined,
      logFormat: logFormat as LogFormat | undefined,
      config: globals['--config'] as string | undefined,
      debug: globals['--debug'] === true,
      systemdCgroup: globals['--systemd-cgroup'] === true,
      honorCaps: globals['--honor-caps'] === true ? true : undefined,
      innerDockerImageSharing: globals['--inner-docker-image-sharing'] as string | undefined,
    },
  };
}

function value(flags: Record<string, string | boolean>, ...names: string[]): string | undefined {
  for (const n of names) if (typeof flags[n] === 'string') return flags[n] as string;
  return undefined;
}

/** Runs a parsed call and returns the exit status. */
export async function runFast(call: FastCall): Promise<number> {
  let logger = new Logger(call.globals.log, call.globals.logFormat, call.globals.debug);
  try {
    const g = resolveSettings(call.globals);
    logger = new Logger(g.log, g.logFormat, g.debug);
    const [id] = call.args;
    const f = call.flags;
    switch (call.command) {
      case 'create':
        await createContainer({
          root: g.root,
          id,
          bundle: value(f, '--bundle', '-b') ?? '.',
          pidFile: value(f, '--pid-file'),
          consoleSocket: value(f, '--console-socket'),
          noPivot: f['--no-pivot'] === true,
          noNewKeyring: f['--no-new-keyring'] === true,
          honorCaps: g.honorCaps,
          idRange: g.idRange,
          systemdCgroup: g.systemdCgroup,
          innerImageSharing: g.innerImageSharing,
          procEmulation: g.procEmulation,
          innerImageStore: g.innerImageStore,
          log: logger,
        });
        break;
      case 'start':
        startContainer(g.root, id, logger);
        break;
      case 'state':
        process.stdout.write(JSON.stringify(containerState(g.root, id), null, 2) + '\n');
        break;
      case 'kill':
        killContainer(
          g.root,
          id,
          parseSignal(call.args[1] ?? 'SIGTERM'),
          f['--all'] || f['-a'] ? true : false,
        );
        break;
      case 'delete':
        await deleteContainer(g.root, id, f['--force'] === true || f['-f'] === true, logger);
        break;
    }
    return 0;
  } catch (err) {
    reportError(logger, err);
    return 1;
  } finally {
    logger.close();
  }
}
