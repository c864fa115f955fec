/** OCI hooks: run in the runtime's namespaces with the container's state on standard input. */
import { spawnSync } from 'node:child_process';
import { SysboxError } from '../errors';
import type { Logger } from '../log';
import type { Hook } from './spec';

export function runHooks(
  kind: string,
  hooks: Hook[] | undefined,
  state: object,
  log: Logger,
  mustSucceed = true,
): void {
  for (const [i, hook] of (hooks ?? []).entries()) {
    const args = hook.args && hook.args.length > 0 ? hook.args : [hook.path];
    const env = Object.fromEntries(
      (hook.env ?? []).map((e) => [e.split('=')[0], e.slice(e.indexOf('=') + 1)]),
    );
    const result = spawnSync(hook.path, args.slice(1), {
      argv0: args[0],
      input: JSON.stringify(state),
      env,
      stdio: ['pipe', 'ignore', 'pipe'],
      timeout: hook.timeout ? hook.timeout * 1000 : undefined,
      encoding: 'utf8',
    });
    let why = '';
    if (result.error) why = result.error.message;
    else if (result.signal) why = `killed by ${result.signal}`;
    else if (result.status !== 0) why = `exit status ${result.status}`;
    if (why === '') {
      log.debug(`${kind} hook ${i} (${hook.path}) succeeded`);
      continue;
    }
    const stderr = (result.stderr ?? '').trim();
    const msg = `${kind} hook ${i} (${hook.path}) failed: ${why}${stderr ? ': ' + stderr : ''}`;
    if (mustSucceed) throw new SysboxError('ESYSTEM', msg);
    log.warn(msg);
  }
}
