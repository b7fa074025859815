/** Tether's config file: schema, loading, and the equivalent built from CLI flags. */
export { parseConfig } from './parse.ts';
export { loadConfig } from './load.ts';
export { appFromFlags, defaultAppName } from './flags.ts';
export type { AppFlags } from './flags.ts';
export { overrideApp, selectApp } from './select.ts';
export { parseDuration } from './duration.ts';
export { parseListen } from './listen.ts';
export type { ListenAddress } from './listen.ts';
export { isRemoteRepo } from './build.ts';
export {
  ConfigErrors,
  ConfigFlagsError,
  ConfigReadError,
  AppSelectionError,
  InvalidDurationError,
  formatProblem,
} from './errors.ts';
export type { ConfigProblem } from './errors.ts';
export type * from './types.ts';
export { checkApp, type AppCheck } from './app.ts';
export type { PathIssue } from './issues.ts';
export { formatPath } from './positions.ts';
