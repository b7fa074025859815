/**
 * The agent's audit log, as every runner appends to it: whether the log can be written is
 * known to /status and the metrics (while it cannot, the write-ahead intent fails and no
 * runner writes to the cluster), and the head of each apply-mode app is anchored in its
 * cluster after each of its records (see cluster/audit-anchor.ts).
 */
import type { AuditInput, AuditLog, AuditRecord } from '../audit/index.ts';
import { chainIdOf, writeAnchor } from '../cluster/audit-anchor.ts';
import { redactUrl } from '../errors.ts';
import type { Connection } from '../sync/pipeline.ts';
import type { AuditHeadView } from '../ui/shared/api.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';

/** What /status and the status page say of the log (the page's AuditHeadView), and where it is. */
export interface AuditStatus extends AuditHeadView {
  path: string;
}

interface AnchorTarget {
  conn: Connection;
  namespace: string;
}

export class AuditSink {
  readonly log: AuditLog;
  private readonly metrics: Metrics;
  private readonly logger: Logger;
  private readonly anchors = new Map<string, AnchorTarget>();
  private writable = true;
  private lastError: string | null = null;
  private anchoredSeq: number | null = null;
  private anchorError: string | null = null;

  constructor(log: AuditLog, metrics: Metrics, logger: Logger) {
    this.log = log;
    this.metrics = metrics;
    this.logger = logger;
    metrics.setAudit(true, log.head.seq);
  }

  get path(): string {
    return this.log.path;
  }

  /** An apply-mode app's records are anchored in its destination, on its inventory. */
  anchorIn(app: string, target: AnchorTarget): void {
    this.anchors.set(app, target);
  }

  async append(input: AuditInput): Promise<AuditRecord> {
    let record: AuditRecord;
    try {
      record = await this.log.append(input);
    } catch (e) {
      this.writable = false;
      this.lastError = redactUrl(e instanceof Error ? e.message : String(e));
      this.metrics.setAudit(false, this.log.head.seq);
      throw e;
    }
    this.writable = true;
    this.lastError = null;
    this.metrics.setAudit(true, record.seq);
    // An intent is followed by its completion at once: anchoring that one is enough.
    if (input.result !== 'intent') await this.anchor(input.app, record);
    return record;
  }

  private async anchor(app: string, record: AuditRecord): Promise<void> {
    const target = this.anchors.get(app);
    const first = this.log.firstHash;
    if (!target || !first) return;
    try {
      await writeAnchor(target.conn.client, target.conn.discovery, {
        app,
        namespace: target.namespace,
        chain: chainIdOf(first),
        seq: record.seq,
        hash: record.hash,
      });
      this.anchoredSeq = record.seq;
      this.anchorError = null;
    } catch (e) {
      this.anchorError = redactUrl(e instanceof Error ? e.message : String(e));
      this.logger.warn({ err: this.anchorError, app }, 'could not anchor the audit head in the cluster');
    }
  }

  status(): AuditStatus {
    const first = this.log.firstHash;
    return {
      path: this.log.path,
      writable: this.writable,
      lastError: this.lastError,
      head: this.log.head,
      chain: first ? chainIdOf(first) : null,
      anchoredSeq: this.anchoredSeq,
      anchorError: this.anchorError,
    };
  }
}
