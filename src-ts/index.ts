/** The library: the same operations the sysbox-runc command runs, for programs to call. */
export { SysboxError, type SysboxErrorCode } from './errors';
export { Logger, silentLogger, type LogLevel, type LogFormat } from './log';
export { createContainer, type CreateOptions } from './runtime/create';
export { execProcess, type ExecOptions } from './runtime/exec';
export {
  startContainer,
  killContainer,
  deleteContainer,
  containerState,
  containerPids,
  listContainers,
  parseSignal,
} from './runtime/lifecycle';
export { defaultRoot, type ContainerState, type Status } from './runtime/state';
export type { Spec, Process } from './runtime/spec';
