/** Structured JSON logs (pino) on stderr; every line of an app's work carries app and commit. */
import { pino, type Logger } from 'pino';
import { redactUrl } from '../errors.ts';

export type { Logger };

export function createLogger(level: string): Logger {
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
    pino.destination({ fd: 2, sync: false }),
  );
}
