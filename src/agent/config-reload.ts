/**
 * The config file, watched while the agent runs: a changed file takes effect without a
 * restart; an invalid one is refused with its errors (file:line:column) and the apps of the
 * last good file keep running. The file is read every POLL_MS and compared by content: a
 * ConfigMap volume swaps a symlink, which file watchers miss, and a small file costs nothing
 * to read. Only the apps change live; settings of the process itself (listen address, audit
 * log, leader election, webhooks, appResources) are reported as needing a restart.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseConfig, type TetherConfig } from '../config/index.ts';
import { canonicalJson } from '../manifests/canonical.ts';
import type { Logger } from './logger.ts';

export const POLL_MS = 2_000;

export interface ConfigReloadStatus {
  file: string;
  /** When the file in force was loaded. */
  loadedAt: string;
  /** Why the newest content of the file is refused; null when it is in force. */
  error: string | null;
  errorSince: string | null;
}

export interface ConfigReloadDeps {
  file: string;
  initial: TetherConfig;
  log: Logger;
  /** Puts the new file's apps in force; throws when one cannot be built (the old ones stay). */
  apply: (config: TetherConfig) => Promise<void>;
}

const RESTART_KEYS = ['listen', 'auditLog', 'leaderElection', 'webhooks', 'appResources'] as const;

const digest = (text: string) => createHash('sha256').update(text).digest('hex');

export class ConfigReloader {
  private readonly d: ConfigReloadDeps;
  private current: TetherConfig;
  private lastDigest: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private readonly st: ConfigReloadStatus;

  constructor(deps: ConfigReloadDeps) {
    this.d = deps;
    this.current = deps.initial;
    this.st = { file: deps.file, loadedAt: new Date().toISOString(), error: null, errorSince: null };
  }

  status(): ConfigReloadStatus {
    return { ...this.st };
  }

  async start(): Promise<void> {
    this.lastDigest = digest(await readFile(this.d.file, 'utf8').catch(() => ''));
    this.timer = setInterval(() => void this.check(), POLL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Reads the file; when its content changed, validates and applies it. */
  async check(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      let text: string;
      try {
        text = await readFile(this.d.file, 'utf8');
      } catch (e) {
        this.refuse(`cannot read config file ${this.d.file}: ${(e as Error).message}`, 'unreadable');
        return;
      }
      const d = digest(text);
      if (d === this.lastDigest) return;
      this.lastDigest = d;
      let next: TetherConfig;
      try {
        next = parseConfig(text, this.d.file);
      } catch (e) {
        this.refuse((e as Error).message, d);
        return;
      }
      try {
        await this.d.apply(next);
      } catch (e) {
        this.refuse(`the changed config file cannot be put in force: ${(e as Error).message}`, d);
        return;
      }
      const needRestart = RESTART_KEYS.filter(
        (k) => canonicalJson(next[k]) !== canonicalJson(this.current[k]),
      );
      if (needRestart.length > 0)
        this.d.log.warn(
          { keys: needRestart },
          `config file changed ${needRestart.join(', ')}: these take effect at the next restart; the apps changed now`,
        );
      this.current = next;
      Object.assign(this.st, { loadedAt: new Date().toISOString(), error: null, errorSince: null });
      this.d.log.info({ file: this.d.file, apps: next.apps.length }, 'config file reloaded');
    } finally {
      this.busy = false;
    }
  }

  private refuse(message: string, digestOrWhy: string): void {
    if (this.st.error !== message) {
      this.d.log.error(
        { file: this.d.file, err: message },
        'config file refused; the previous one stays in force',
      );
      this.st.errorSince = new Date().toISOString();
    }
    this.st.error = message;
    // Unreadable: try again at the next poll.
    if (digestOrWhy === 'unreadable') this.lastDigest = undefined;
  }
}
