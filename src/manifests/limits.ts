import type { Limits } from './types.ts';

const MiB = 1024 * 1024;

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxFileBytes: 4 * MiB,
  maxTotalBytes: 64 * MiB,
  maxDocumentsPerFile: 1_000,
  maxObjects: 20_000,
  maxAliases: 100,
  maxDepth: 100,
});

export function resolveLimits(overrides: Partial<Limits> | undefined): Limits {
  const limits: Limits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(overrides ?? {}) as [keyof Limits, number | undefined][]) {
    if (value !== undefined) limits[key] = value;
  }
  return limits;
}

export function formatBytes(n: number): string {
  if (n >= MiB && n % MiB === 0) return `${n / MiB} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
