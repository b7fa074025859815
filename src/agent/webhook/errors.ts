import { TetherError } from '../../errors.ts';

/** A verified webhook request whose body is not a push Tether understands (answered with 400). */
export class WebhookPayloadError extends TetherError {}

/** A webhook's secret file or environment variable is missing or empty. */
export class WebhookSecretError extends TetherError {}
