/**
 * sysbox-runc: the command line that Docker, containerd and Kubernetes call as they call runc.
 * Global flags come before the subcommand. Data goes to stdout; errors go to the `--log` file
 * as the last `"level":"error"` line, which is where containerd looks, and to stderr.
 */
import { Command, Option } from 'commander';
import { defaultConfigFile } from '../config';
import { reportError, resolveSettings, type GlobalFlags, type Settings } from './settings';
import { SysboxError } from '../errors';
import { Logger } from '../log';
import { createContainer, type CreateOptions } from '../runtime/create';
import { execProcess, readProcessFile } from '../runtime/exec';
import {
  containerPids,
  containerState,
  deleteContainer,
  killContainer,
  listContainers,
  parseSignal,
  startContainer,
} from '../runtime/lifecycle';
import { defaultRoot } from '../runtime/state';
import {
  containerStats,
  pauseContainer,
  resumeContainer,
  updateContainer,
} from '../runtime/control';
import { features, writeDefaultSpec } from '../runtime/describe';
import { runContainer } from '../runtime/run';
import { checkResources, type Resources } from '../runtime/spec';
import * as fs from 'node:fs';
import type { Process } from '../runtime/spec';
import { managerDefaultCaps } from '../runtime/process-steps';
import { defaultStoreRoot, InnerStore } from '../storage/inner-store';

const version = '0.1.0';

let logger = new Logger(undefined);
let exitCodeOnError = 1;

const settingsOf = new WeakMap<Command, Settings>();

/** The settings for a command, read once: the pre-action hook and the action both need them. */
function globals(cmd: Command): Settings {
  let s = settingsOf.get(cmd);
  if (s === undefined) {
    s = resolveSettings(cmd.optsWithGlobals() as GlobalFlags);
    settingsOf.set(cmd, s);
  }
  return s;
}

/** The options `create` and `run` share, from their flags and the global settings. */
function createOptions(id: string, o: Record<string, unknown>, g: Settings): CreateOptions {
  return {
    root: g.root,
    id,
    bundle: o.bundle as string,
    pidFile: o.pidFile as string | undefined,
    consoleSocket: o.consoleSocket as string | undefined,
    noPivot: o.pivot === false,
    noNewKeyring: o.newKeyring === false,
    honorCaps: g.honorCaps,
    idRange: g.idRange,
    systemdCgroup: g.systemdCgroup,
    innerImageSharing: g.innerImageSharing,
    procEmulation: g.procEmulation,
    innerImageStore: g.innerImageStore,
    log: logger,
  };
}

function out(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

function program(): Command {
  const p = new Command('sysbox-runc')
    .description('OCI runtime for system containers')
    .option('--root <dir>', `where container state is kept (default: ${defaultRoot})`)
    .option('--config <file>', `runtime settings (default: ${defaultConfigFile})`)
    .option('--honor-caps', 'give processes exactly the capabilities config.json lists')
    .option('--log <file>', 'log file (default: stderr)')
    .addOption(
      new Option('--log-format <format>', 'log format').choices(['text', 'json']).default('text'),
    )
    .option('--debug', 'log debug messages', false)
    .option('--systemd-cgroup', 'read cgroupsPath as slice:prefix:name', false)
    .option(
      '--inner-docker-image-sharing <bool>',
      'share preloaded inner images between containers (default: true)',
    )
    .addOption(
      new Option(
        '--criu <path>',
        'accepted for compatibility; checkpoints are not supported',
      ).hideHelp(),
    )
    .addOption(new Option('--rootless <value>', 'accepted for compatibility').hideHelp())
    .option('-v, --version', 'print the version')
    .showHelpAfterError(false)
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeErr: () => {} })
    .hook('preAction', (_, action) => {
      const g = globals(action);
      logger = new Logger(g.log, g.logFormat, g.debug);
    });

  p.command('create')
    .description('create a container, stopped before its process runs')
    .argument('<id>')
    .option('-b, --bundle <dir>', 'bundle directory', '.')
    .option('--pid-file <file>', 'write the init PID here')
    .option('--console-socket <path>', 'unix socket that receives the terminal master')
    .option('--no-pivot', 'chroot instead of pivot_root')
    .option('--no-new-keyring', "keep the caller's session keyring")
    .option('--preserve-fds <n>', 'accepted; extra fds are not passed on', '0')
    .option('-d, --detach', 'accepted; create always detaches')
    .action(async (id: string, o, cmd: Command) => {
      await createContainer(createOptions(id, o, globals(cmd)));
    });

  p.command('start')
    .description('run the process of a created container')
    .argument('<id>')
    .action((id: string, _o, cmd: Command) => startContainer(globals(cmd).root, id, logger));

  p.command('state')
    .description('print the state of a container as JSON')
    .argument('<id>')
    .action((id: string, _o, cmd: Command) => out(containerState(globals(cmd).root, id)));

  p.command('kill')
    .description('send a signal to the container init (default SIGTERM)')
    .argument('<id>')
    .argument('[signal]', 'signal name or number', 'SIGTERM')
    .option('-a, --all', 'signal every process in the container', false)
    .action((id: string, sig: string, o, cmd: Command) =>
      killContainer(globals(cmd).root, id, parseSignal(sig), o.all),
    );

  p.command('delete')
    .description('delete a stopped container')
    .argument('<id>')
    .option('-f, --force', 'kill the container first if it runs', false)
    .action(async (id: string, o, cmd: Command) => {
      await deleteContainer(globals(cmd).root, id, o.force, logger);
    });

  p.command('exec')
    .description('run a process in a running container')
    .argument('<id>')
    .argument('[command...]')
    .option('-p, --process <file>', 'JSON process spec')
    .option('-d, --detach', 'do not wait for the process', false)
    .option('--pid-file <file>', 'write the process PID here')
    .option('--console-socket <path>', 'unix socket that receives the terminal master')
    .option('-t, --tty', 'allocate a terminal', false)
    .option('--cwd <dir>', 'working directory', '/')
    .option('-e, --env <var...>', 'environment variables')
    .option('-u, --user <uid[:gid]>', 'user to run as', '0:0')
    .passThroughOptions()
    .action(async (id: string, command: string[], o, cmd: Command) => {
      exitCodeOnError = 255;
      const g = globals(cmd);
      let proc: Process;
      if (o.process) {
        proc = readProcessFile(o.process);
      } else {
        if (command.length === 0) {
          throw new SysboxError('EINVAL_ARGUMENT', 'exec needs --process or a command');
        }
        const [uid, gid] = String(o.user).split(':').map(Number);
        proc = {
          args: command,
          cwd: o.cwd,
          env: o.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
          terminal: o.tty,
          user: { uid, gid: gid ?? 0 },
          // The set a manager would give, which is what lets root keep every capability.
          capabilities: {
            bounding: managerDefaultCaps,
            effective: managerDefaultCaps,
            permitted: managerDefaultCaps,
          },
        };
      }
      const r = await execProcess({
        root: g.root,
        id,
        process: proc,
        detach: o.detach,
        pidFile: o.pidFile,
        consoleSocket: o.consoleSocket,
        log: logger,
      });
      if (r.status !== undefined) process.exitCode = r.status;
    });

  p.command('ps')
    .description('list the processes of a container')
    .argument('<id>')
    .option('-f, --format <format>', 'table or json', 'table')
    .action((id: string, o, cmd: Command) => {
      const pids = containerPids(globals(cmd).root, id);
      if (o.format === 'json') process.stdout.write(JSON.stringify(pids) + '\n');
      else process.stdout.write(['PID', ...pids].join('\n') + '\n');
    });

  p.command('list')
    .description('list containers')
    .option('-f, --format <format>', 'table or json', 'table')
    .option('-q, --quiet', 'print only ids', false)
    .action((o, cmd: Command) => {
      const list = listContainers(globals(cmd).root) as {
        id: string;
        pid: number;
        status: string;
      }[];
      if (o.quiet) process.stdout.write(list.map((c) => c.id + '\n').join(''));
      else if (o.format === 'json') process.stdout.write(JSON.stringify(list) + '\n');
      else {
        const rows = list.map((c) => `${c.id}\t${c.pid}\t${c.status}`);
        process.stdout.write(['ID\tPID\tSTATUS', ...rows].join('\n') + '\n');
      }
    });

  const store = p.command('store').description('the shared store of preloaded inner image layers');
  store
    .command('list')
    .description('print each shared layer with its size and the containers that use it')
    .option('-f, --format <format>', 'table or json', 'table')
    .action((o, cmd: Command) => {
      const entries = new InnerStore(globals(cmd).innerImageStore ?? defaultStoreRoot).list();
      if (o.format === 'json') return out(entries);
      const rows = entries.map((e) => {
        const live = e.users.filter((u) => u.live).length;
        const mb = (e.bytes / 1e6).toFixed(1);
        return `${e.name}\t${mb} MB\t${live} live, ${e.users.length - live} gone`;
      });
      process.stdout.write(['ENTRY\tSIZE\tUSERS', ...rows].join('\n') + '\n');
    });
  store
    .command('gc')
    .description('free the layers that no container uses any more')
    .action((_o, cmd: Command) => {
      const { freed } = new InnerStore(globals(cmd).innerImageStore ?? defaultStoreRoot).collect(
        logger,
      );
      process.stdout.write(`freed ${freed.length} layers\n`);
    });

  p.command('run')
    .description('create and start a container; without --detach, wait for it and delete it')
    .argument('<id>')
    .option('-b, --bundle <dir>', 'bundle directory', '.')
    .option('--pid-file <file>', 'write the init PID here')
    .option('--console-socket <path>', 'unix socket that receives the terminal master')
    .option('-d, --detach', 'return once the container runs', false)
    .option('--no-pivot', 'chroot instead of pivot_root')
    .option('--no-new-keyring', "keep the caller's session keyring")
    .action(async (id: string, o, cmd: Command) => {
      const options = createOptions(id, o, globals(cmd));
      process.exitCode = await runContainer({ ...options, detach: o.detach });
    });

  p.command('pause')
    .description('freeze every process of a container')
    .argument('<id>')
    .action((id: string, _o, cmd: Command) => pauseContainer(globals(cmd).root, id, logger));

  p.command('resume')
    .description('thaw a paused container')
    .argument('<id>')
    .action((id: string, _o, cmd: Command) => resumeContainer(globals(cmd).root, id, logger));

  p.command('update')
    .description("change a container's resource limits")
    .argument('<id>')
    .option('-r, --resources <file>', 'LinuxResources JSON; - reads standard input')
    .option('--memory <bytes>', 'memory limit')
    .option('--pids-limit <n>', 'maximum number of processes')
    .option('--cpu-shares <n>', 'relative CPU weight')
    .option('--cpu-quota <usec>', 'CPU time per period')
    .option('--cpu-period <usec>', 'CPU accounting period')
    .action((id: string, o, cmd: Command) => {
      updateContainer(globals(cmd).root, id, resourcesFrom(o), logger);
    });

  p.command('events')
    .description('print resource statistics of a container')
    .argument('<id>')
    .option('--stats', 'print statistics once and exit', false)
    .option('--interval <duration>', 'seconds between statistics', '5s')
    .action(async (id: string, o, cmd: Command) => {
      const root = globals(cmd).root;
      const seconds = parseFloat(String(o.interval));
      if (!(seconds > 0)) {
        throw new SysboxError('EINVAL_ARGUMENT', `invalid --interval ${o.interval}: must be > 0`);
      }
      for (;;) {
        process.stdout.write(JSON.stringify(containerStats(root, id)) + '\n');
        if (o.stats) return;
        await new Promise((r) => setTimeout(r, seconds * 1000));
      }
    });

  p.command('spec')
    .description('write a config.json for a system container')
    .option('-b, --bundle <dir>', 'where to write it', '.')
    .action((o) => {
      writeDefaultSpec(o.bundle);
    });

  p.command('features')
    .description('print the config.json features this runtime supports')
    .action(() => out(features()));

  return p;
}

function number(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new SysboxError('EINVAL_ARGUMENT', `${flag} must be an integer`);
  return n;
}

/** The resources from `--resources` (a file, or - for standard input) and the flags. */
function resourcesFrom(o: Record<string, string | undefined>): Resources {
  let r: Resources = {};
  if (o.resources) {
    const text = fs.readFileSync(o.resources === '-' ? 0 : o.resources, 'utf8');
    try {
      r = JSON.parse(text) as Resources;
    } catch (err) {
      throw new SysboxError(
        'EINVAL_CONFIG',
        `resources are not valid JSON: ${(err as Error).message}`,
      );
    }
    if (typeof r !== 'object' || r === null || Array.isArray(r)) {
      throw new SysboxError('EINVAL_CONFIG', 'resources must be a JSON object');
    }
    checkResources(r, 'resources');
  }
  const memory = number(o.memory, '--memory');
  if (memory !== undefined) r.memory = { ...r.memory, limit: memory };
  const pids = number(o.pidsLimit, '--pids-limit');
  if (pids !== undefined) r.pids = { limit: pids };
  for (const [flag, key] of [
    ['cpuShares', 'shares'],
    ['cpuQuota', 'quota'],
    ['cpuPeriod', 'period'],
  ] as const) {
    const v = number(o[flag], `--${flag}`);
    if (v !== undefined) r.cpu = { ...r.cpu, [key]: v };
  }
  return r;
}

function printVersion(): void {
  process.stdout.write(`sysbox-runc version ${version}\ncommit: ${version}\nspec: 1.0.2-dev\n`);
}

/** `--version` counts only among the global flags, before the subcommand. */
function asksVersion(p: Command, args: string[]): boolean {
  const names = new Set(p.commands.map((c) => c.name()));
  for (const a of args) {
    if (names.has(a)) return false;
    if (a === '--version' || a === '-v') return true;
  }
  return false;
}

export async function main(argv: string[]): Promise<number> {
  const p = program();
  if (argv.length <= 2) {
    process.stdout.write(p.helpInformation());
    return 0;
  }
  if (asksVersion(p, argv.slice(2))) {
    printVersion();
    return 0;
  }
  try {
    await p.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const e = err as { code?: string };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    reportError(logger, err);
    return e.code?.startsWith('commander.') ? 1 : exitCodeOnError;
  } finally {
    logger.close();
  }
}
