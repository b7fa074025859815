/**
 * How many webhook requests may be reading their bodies at once, and how many bytes they may
 * hold between them. A request is admitted (or refused with 503) once its headers passed every
 * check that needs no body, with its declared Content-Length reserved up front, so what the
 * webhook endpoint holds in memory is bounded before a byte of any body is read.
 */

export interface AdmissionLimits {
  /** Webhook requests reading or holding a body at once. */
  maxInFlight: number;
  /** Sum of the declared lengths of those requests. */
  maxBufferedBytes: number;
}

export const DEFAULT_ADMISSION: AdmissionLimits = { maxInFlight: 16, maxBufferedBytes: 8 * 1024 * 1024 };

export interface Ticket {
  /** Gives the slot and the bytes back; once only, later calls do nothing. */
  release(): void;
}

export type Admission = { ok: true; ticket: Ticket } | { ok: false; reason: 'requests' | 'bytes' };

export class AdmissionGate {
  readonly limits: AdmissionLimits;
  #inFlight = 0;
  #bytes = 0;

  constructor(limits: AdmissionLimits = DEFAULT_ADMISSION) {
    this.limits = limits;
  }

  /** Admits a request whose body declares `bytes`, if both limits allow it. */
  admit(bytes: number): Admission {
    if (this.#inFlight >= this.limits.maxInFlight) return { ok: false, reason: 'requests' };
    if (this.#bytes + bytes > this.limits.maxBufferedBytes) return { ok: false, reason: 'bytes' };
    this.#inFlight++;
    this.#bytes += bytes;
    let released = false;
    return {
      ok: true,
      ticket: {
        release: () => {
          if (released) return;
          released = true;
          this.#inFlight--;
          this.#bytes -= bytes;
        },
      },
    };
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get bytes(): number {
    return this.#bytes;
  }
}
