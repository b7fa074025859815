import { readFile } from 'node:fs/promises';
import type { WebhookConfig } from '../../config/types.ts';
import { WebhookSecretError } from './errors.ts';

export interface WebhookEndpoint {
  name: string;
  type: WebhookConfig['type'];
  secret: Buffer;
}

/**
 * The shared secret of one webhook, from its file or environment variable. Surrounding
 * whitespace is dropped: files written by `echo` or `kubectl create secret --from-file` end
 * in a newline that the sender does not use. Errors name the source, never the content.
 */
export async function readWebhookSecret(
  config: WebhookConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Buffer> {
  let text: string | undefined;
  let source: string;
  if (config.secretFile !== undefined) {
    source = `file ${config.secretFile}`;
    try {
      text = await readFile(config.secretFile, 'utf8');
    } catch (err) {
      throw new WebhookSecretError(`webhook ${config.name}: cannot read secret ${source}`, {
        hint: 'mount the secret at that path or fix secretFile in the config',
        cause: err,
      });
    }
  } else {
    source = `environment variable ${config.secretEnv ?? '(none)'}`;
    text = config.secretEnv === undefined ? undefined : env[config.secretEnv];
  }
  const secret = text?.trim() ?? '';
  if (secret === '') {
    throw new WebhookSecretError(`webhook ${config.name}: the secret ${source} is empty or unset`, {
      hint: 'an empty secret would accept anyone; set a long random value',
    });
  }
  return Buffer.from(secret, 'utf8');
}

/** Every configured webhook with its secret, for createWebhookHandler. */
export async function loadWebhookEndpoints(
  configs: WebhookConfig[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<WebhookEndpoint[]> {
  return Promise.all(
    configs.map(async (c) => ({ name: c.name, type: c.type, secret: await readWebhookSecret(c, env) })),
  );
}
