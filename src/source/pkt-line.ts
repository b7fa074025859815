// Git pkt-line framing (4 hex digits of length, then data; 0000 flush, 0001 delim,
// 0002 response-end), for the few protocol v2 exchanges we speak ourselves.

export const FLUSH = Buffer.from('0000');
export const DELIM = Buffer.from('0001');

export function pkt(line: string): Buffer {
  const data = Buffer.from(line, 'utf8');
  return Buffer.concat([Buffer.from((data.byteLength + 4).toString(16).padStart(4, '0')), data]);
}

export type PktLine = Buffer | 'flush' | 'delim' | 'end';

/** Splits a whole response into pkt-lines; throws on malformed framing. */
export function parsePktLines(buf: Buffer): PktLine[] {
  const out: PktLine[] = [];
  let i = 0;
  while (i < buf.byteLength) {
    if (i + 4 > buf.byteLength) throw new Error('truncated pkt-line length');
    const hex = buf.toString('latin1', i, i + 4);
    if (!/^[0-9a-f]{4}$/i.test(hex)) throw new Error(`invalid pkt-line length ${JSON.stringify(hex)}`);
    const len = parseInt(hex, 16);
    if (len === 0) out.push('flush');
    else if (len === 1) out.push('delim');
    else if (len === 2) out.push('end');
    else if (len < 4 || i + len > buf.byteLength) throw new Error('invalid pkt-line length');
    else out.push(buf.subarray(i + 4, i + len));
    i += len < 4 ? 4 : len;
  }
  return out;
}
