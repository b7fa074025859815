/** Health per object with kstatus semantics, and per app. Pure: data in, data out. */
export { healthOf } from './compute.ts';
export { summarize } from './summarize.ts';
export { SCHEDULE_WINDOW_MS } from './rules/pod.ts';
export type { Health, HealthOptions, HealthStatus } from './types.ts';
