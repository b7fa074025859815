/**
 * Structured logs (pino) on stderr; every line of an app's work carries app and commit. JSON
 * lines by default off a terminal; `text` renders each line for people (time, level, message,
 * then key=value) without another dependency.
 */
import { pino, type Logger } from 'pino';
import { redactUrl } from '../errors.ts';
import { escapeControls } from '../util/escape.ts';

export type { Logger };

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Text on a terminal, JSON lines otherwise (for a log collector). */
export function defaultLogFormat(isTTY: boolean = Boolean(process.stderr.isTTY)): LogFormat {
  return isTTY ? 'text' : 'json';
}

const OMIT = new Set(['time', 'level', 'msg', 'component']);

function valueText(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/** One JSON log line as text: `2026-01-02T03:04:05.000Z INFO  message key=value ...`. */
export function formatLogLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : json + '\n';
  }
  const level = (typeof rec.level === 'string' ? rec.level : 'info').toUpperCase().padEnd(5);
  const fields = Object.entries(rec)
    .filter(([k, v]) => !OMIT.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${valueText(v)}`);
  const msg = typeof rec.msg === 'string' ? rec.msg : '';
  return (
    escapeControls(
      [typeof rec.time === 'string' ? rec.time : '', level, msg, ...fields].filter(Boolean).join(' '),
    ) + '\n'
  );
}

export function createLogger(level: string, format: LogFormat = 'json'): Logger {
  const destination =
    format === 'text'
      ? {
          write(chunk: string): void {
            for (const line of chunk.split('\n')) if (line) process.stderr.write(formatLogLine(line));
          },
        }
      : pino.destination({ fd: 2, sync: false });
  return pino(
    {
      level,
      base: { component: 'tether-agent' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Credentials may hide in repository URLs inside messages.
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a) => (typeof a === 'string' ? redactUrl(a) : a)) as Parameters<typeof method>,
          );
        },
      },
    },
    destination,
  );
}
