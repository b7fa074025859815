import { TetherError } from '../errors.ts';

export class KubeconfigError extends TetherError {}

/** The API server could not be reached at all (down, wrong address, TLS failure, timeout). */
export class ApiUnreachableError extends TetherError {}

/** A kind that neither the cluster's discovery nor the commit's own CRDs know. */
export class UnknownKindError extends TetherError {}

interface StatusBody {
  kind?: string;
  reason?: string;
  message?: string;
  details?: { causes?: { field?: string; message?: string; reason?: string }[] };
}

/** The API server answered with an error Status (4xx/5xx). */
export class ApiStatusError extends TetherError {
  readonly status: number;
  readonly reason: string;
  readonly causes: { field?: string; message?: string; reason?: string }[];
  /** The server's own message, without the request it answered (for per-object errors). */
  readonly detail: string;

  constructor(
    message: string,
    status: number,
    reason: string,
    causes: ApiStatusError['causes'],
    options?: { hint?: string; detail?: string },
  ) {
    super(message, options);
    this.status = status;
    this.reason = reason;
    this.causes = causes;
    this.detail = options?.detail ?? message;
  }

  static from(status: number, json: unknown, text: string, what: string): ApiStatusError {
    const s = (json && typeof json === 'object' ? json : {}) as StatusBody;
    const reason = s.reason ?? String(status);
    const message = s.message ?? (text.trim().slice(0, 300) || `HTTP ${status}`);
    const hint =
      status === 401
        ? 'the credentials in the kubeconfig were refused: refresh them (or the token) and retry'
        : status === 403
          ? 'the identity in the kubeconfig lacks RBAC permission for this; grant it or use another context'
          : undefined;
    return new ApiStatusError(`${what}: ${message}`, status, reason, s.details?.causes ?? [], {
      ...(hint ? { hint } : {}),
      detail: message,
    });
  }

  get notFound(): boolean {
    return this.status === 404;
  }
  get conflict(): boolean {
    return this.status === 409;
  }
  /** A 422 that says an immutable field would change ("field is immutable", "may not change once set"). */
  get immutable(): boolean {
    return (
      this.status === 422 && /immutable|may not change/i.test(this.message + JSON.stringify(this.causes))
    );
  }
  /** The fields an immutable-field refusal names, as `.spec.selector` (empty when it names none). */
  get immutableFields(): string[] {
    const fields = this.causes
      .filter((c) => c.field && /immutable|may not change/i.test(c.message ?? ''))
      .map((c) => `.${c.field!.replace(/^\./, '')}`);
    return [...new Set(fields)];
  }
}
