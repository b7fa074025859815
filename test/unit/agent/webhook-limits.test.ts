/** The webhook endpoint's admission gate and log limiter (src/agent/webhook/). */
import { describe, expect, it } from 'vitest';
import { AdmissionGate } from '../../../src/agent/webhook/admission.ts';
import { limitLog } from '../../../src/agent/webhook/log-limit.ts';

describe('AdmissionGate', () => {
  it('admits up to maxInFlight requests and maxBufferedBytes, and takes them back once each', () => {
    const gate = new AdmissionGate({ maxInFlight: 2, maxBufferedBytes: 100 });
    const a = gate.admit(60);
    expect(a.ok).toBe(true);
    expect(gate.admit(41)).toEqual({ ok: false, reason: 'bytes' });
    const b = gate.admit(40);
    expect(b.ok).toBe(true);
    expect(gate.admit(0)).toEqual({ ok: false, reason: 'requests' });
    expect([gate.inFlight, gate.bytes]).toEqual([2, 100]);
    if (!a.ok || !b.ok) throw new Error('unreachable');
    a.ticket.release();
    a.ticket.release();
    expect([gate.inFlight, gate.bytes]).toEqual([1, 40]);
    b.ticket.release();
    expect([gate.inFlight, gate.bytes]).toEqual([0, 0]);
  });
});

describe('limitLog', () => {
  it('logs a message at most `burst` times a window, then says how many it left out', () => {
    let t = 0;
    const lines: { msg: string; suppressed?: number }[] = [];
    const limited = limitLog(3, 1_000, () => t);
    const log = (msg: string) => limited(msg, (extra) => lines.push({ msg, ...extra }));
    for (let i = 0; i < 10; i++) log('a');
    log('b');
    expect(lines).toEqual([{ msg: 'a' }, { msg: 'a' }, { msg: 'a' }, { msg: 'b' }]);
    t = 1_000;
    log('a');
    log('a');
    expect(lines.slice(4)).toEqual([{ msg: 'a', suppressed: 7 }, { msg: 'a' }]);
  });
});
