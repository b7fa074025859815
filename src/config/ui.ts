/**
 * The `ui:` key: the status page the agent serves at `/` on its listen address, with its
 * read-only data under `/api/` and `/events`. Optional credentials (a bearer token, or users
 * and passwords for basic auth, each from a file) protect the page, its data and /status and
 * /audit; /healthz, /readyz and /metrics stay open, and /webhook/ keeps its HMAC.
 *
 *     ui:
 *       enabled: true                        # default
 *       auth:
 *         bearerTokenFile: secrets/ui-token  # Authorization: Bearer <token>
 *         basicAuthFile: secrets/ui-users    # lines "user:password"
 */
import { resolve } from 'node:path';
import { z } from 'zod';

const file = () => z.string().min(1, { error: 'must not be empty' });

export const uiSchema = z.strictObject({
  enabled: z.boolean().default(true),
  auth: z
    .strictObject({ bearerTokenFile: file().optional(), basicAuthFile: file().optional() })
    .refine((a) => a.bearerTokenFile !== undefined || a.basicAuthFile !== undefined, {
      error: 'set bearerTokenFile or basicAuthFile (or both), or leave auth out',
    })
    .optional(),
});

export interface UiAuthConfig {
  /** Absolute path of a file holding the bearer token (surrounding whitespace dropped). */
  bearerTokenFile?: string;
  /** Absolute path of a file of `user:password` lines (`#` comments and blank lines skipped). */
  basicAuthFile?: string;
}

export interface UiConfig {
  enabled: boolean;
  auth?: UiAuthConfig;
}

/** The schema's output with the credential files resolved against the config file's directory. */
export function buildUi(raw: z.output<typeof uiSchema>, baseDir: string): UiConfig {
  const a = raw.auth;
  if (!a) return { enabled: raw.enabled };
  return {
    enabled: raw.enabled,
    auth: {
      ...(a.bearerTokenFile !== undefined && { bearerTokenFile: resolve(baseDir, a.bearerTokenFile) }),
      ...(a.basicAuthFile !== undefined && { basicAuthFile: resolve(baseDir, a.basicAuthFile) }),
    },
  };
}
