/**
 * The library's front: a Runtime holds the settings (state root, ID range, capability policy)
 * and hands out Container handles. Each method is one runtime command; the handle keeps no
 * state of its own, so handles and `sysbox-runc` commands can act on the same containers.
 */
import { loadRuntimeConfig, defaultConfigFile, type RuntimeConfig } from './config';
import { Logger, silentLogger } from './log';
import {
  containerStats,
  pauseContainer,
  resumeContainer,
  updateContainer,
} from './runtime/control';
import { createContainer } from './runtime/create';
import { execProcess } from './runtime/exec';
import {
  containerPids,
  deleteContainer,
  killContainer,
  listContainers,
  parseSignal,
  startContainer,
} from './runtime/lifecycle';
import type { Process, Resources } from './runtime/spec';
import { defaultRoot, ociState, readState, statusOf, waitDead, type Status } from './runtime/state';

export interface RuntimeOptions {
  /** Where container state lives; default the config file's `root`, else /run/sysbox-runc. */
  root?: string;
  /** Settings to use instead of reading /etc/sysbox/config.json. */
  config?: RuntimeConfig;
  logger?: Logger;
}

export interface ContainerInfo {
  id: string;
  pid: number;
  status: Status;
  bundle: string;
  rootfs: string;
  created: string;
  annotations: Record<string, string>;
}

export class Runtime {
  readonly root: string;
  readonly config: Readonly<RuntimeConfig>;
  private readonly log: Logger;

  constructor(options: RuntimeOptions = {}) {
    if (options.root !== undefined && (typeof options.root !== 'string' || !options.root)) {
      throw new TypeError('root must be a non-empty string');
    }
    this.config = options.config ?? loadRuntimeConfig(undefined);
    this.root = options.root ?? this.config.root ?? defaultRoot;
    this.log = options.logger ?? silentLogger;
  }

  /** Creates a container from a bundle; its process waits until `start()`. */
  async create(
    id: string,
    options: { bundle: string; pidFile?: string; consoleSocket?: string },
  ): Promise<Container> {
    if (typeof options?.bundle !== 'string') throw new TypeError('options.bundle is required');
    const range = this.config.idRange;
    await createContainer({
      root: this.root,
      id,
      bundle: options.bundle,
      pidFile: options.pidFile,
      consoleSocket: options.consoleSocket,
      honorCaps: this.config.honorCaps,
      idRange: range && { ...range, source: defaultConfigFile },
      log: this.log,
    });
    return new Container(this, id, this.log);
  }

  /** A handle on an existing container; throws SysboxError ENOT_FOUND if there is none. */
  get(id: string): Container {
    readState(this.root, id);
    return new Container(this, id, this.log);
  }

  list(): ContainerInfo[] {
    return listContainers(this.root) as ContainerInfo[];
  }
}

export class Container {
  constructor(
    readonly runtime: Runtime,
    readonly id: string,
    private readonly log: Logger,
  ) {}

  private get root(): string {
    return this.runtime.root;
  }

  start(): void {
    startContainer(this.root, this.id, this.log);
  }

  state(): ContainerInfo {
    return ociState(this.root, readState(this.root, this.id)) as ContainerInfo;
  }

  /** Signals the first process, or with `all` every process; names or numbers. */
  kill(signal: string | number = 'SIGTERM', all = false): void {
    killContainer(this.root, this.id, parseSignal(String(signal)), all);
  }

  /** Resolves once the container has stopped, or with false after `timeoutMs`. */
  async waitStopped(timeoutMs = 30000): Promise<boolean> {
    const s = readState(this.root, this.id);
    await waitDead(s, timeoutMs);
    return statusOf(this.root, s) === 'stopped';
  }

  pids(): number[] {
    return containerPids(this.root, this.id);
  }

  async exec(process: Process, options: { detach?: boolean } = {}): Promise<number> {
    const r = await execProcess({
      root: this.root,
      id: this.id,
      process,
      detach: options.detach ?? false,
      log: this.log,
    });
    return options.detach ? r.pid : (r.status ?? 0);
  }

  pause(): Promise<void> {
    return pauseContainer(this.root, this.id, this.log);
  }

  resume(): Promise<void> {
    return resumeContainer(this.root, this.id, this.log);
  }

  update(resources: Resources): void {
    updateContainer(this.root, this.id, resources, this.log);
  }

  stats(): object {
    return containerStats(this.root, this.id);
  }

  /** Removes the container; `force` kills it first if it still runs. */
  delete(options: { force?: boolean } = {}): Promise<void> {
    return deleteContainer(this.root, this.id, options.force ?? false, this.log);
  }
}
