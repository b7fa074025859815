import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { WatchGoneError, WatchStreamError } from '../../../src/cluster/watch/errors.ts';
import { readEvents, type WatchEvent } from '../../../src/cluster/watch/stream.ts';

function chunks(...parts: (string | Buffer)[]): AsyncIterable<Buffer> {
  return Readable.from(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
}

async function collect(source: AsyncIterable<Buffer>): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  for await (const ev of readEvents(source)) out.push(ev);
  return out;
}

const line = (type: string, object: unknown): string => JSON.stringify({ type, object }) + '\n';

describe('readEvents', () => {
  it('splits events across chunk boundaries, even inside a multi-byte character', async () => {
    const text =
      line('ADDED', { metadata: { name: 'ä€' } }) + line('BOOKMARK', { metadata: { resourceVersion: '7' } });
    const bytes = Buffer.from(text);
    const cut = bytes.indexOf(Buffer.from('€')) + 1; // in the middle of the euro sign
    const events = await collect(chunks(bytes.subarray(0, 5), bytes.subarray(5, cut), bytes.subarray(cut)));
    expect(events).toEqual([
      { type: 'ADDED', object: { metadata: { name: 'ä€' } } },
      { type: 'BOOKMARK', object: { metadata: { resourceVersion: '7' } } },
    ]);
  });

  it('accepts a last event without a newline and skips blank lines', async () => {
    const events = await collect(
      chunks('\n', line('MODIFIED', { a: 1 }), '\n', line('DELETED', { a: 2 }).trim()),
    );
    expect(events.map((e) => e.type)).toEqual(['MODIFIED', 'DELETED']);
  });

  it('turns an ERROR event with code 410 into WatchGoneError', async () => {
    const gone = {
      kind: 'Status',
      status: 'Failure',
      reason: 'Expired',
      code: 410,
      message: 'too old resource version: 1 (500)',
    };
    await expect(collect(chunks(line('ADDED', {}), line('ERROR', gone)))).rejects.toThrow(WatchGoneError);
  });

  it('turns other ERROR events and garbage into WatchStreamError', async () => {
    const err = { kind: 'Status', code: 500, message: 'etcd is sad' };
    await expect(collect(chunks(line('ERROR', err)))).rejects.toThrow(/etcd is sad/);
    await expect(collect(chunks('<html>\n'))).rejects.toThrow(WatchStreamError);
    await expect(collect(chunks(line('SURPRISE', {})))).rejects.toThrow(WatchStreamError);
  });
});
