// A read-only git object reader with node's native zlib: pack indexes (v2) are parsed once
// per operation, objects are read from packs with positioned reads (a pack is never loaded
// whole, so memory stays bounded for large repositories), deltas are applied here, and
// loose objects are read directly. isomorphic-git's own reader inflates in JavaScript and
// probes the file system per object, which made reading a 5,000-file commit take seconds.
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';

export type ObjectType = 'commit' | 'tree' | 'blob' | 'tag';

export interface GitObject {
  type: ObjectType;
  data: Buffer;
}

const TYPES: Record<number, ObjectType> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };
const OFS_DELTA = 6;
const REF_DELTA = 7;
/** Bytes of resolved delta bases kept in memory per reader. */
const BASE_CACHE_BYTES = 32 * 1024 * 1024;

class Pack {
  readonly path: string;
  private readonly oids: Buffer;
  private readonly offsets: Float64Array;
  private readonly fanout: Uint32Array;
  /** Offsets in ascending order, to find where each object's data ends. */
  private readonly sorted: Float64Array;
  private readonly end: number;
  private fd: number | undefined;

  constructor(idxPath: string) {
    const idx = readFileSync(idxPath);
    if (idx.readUInt32BE(0) !== 0xff744f63 || idx.readUInt32BE(4) !== 2) {
      throw new Error(`unsupported pack index ${idxPath} (only version 2)`);
    }
    this.fanout = new Uint32Array(256);
    for (let i = 0; i < 256; i++) this.fanout[i] = idx.readUInt32BE(8 + i * 4);
    const n = this.fanout[255]!;
    const oidStart = 8 + 256 * 4;
    this.oids = idx.subarray(oidStart, oidStart + n * 20);
    const offStart = oidStart + n * 24;
    const bigStart = offStart + n * 4;
    this.offsets = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = idx.readUInt32BE(offStart + i * 4);
      this.offsets[i] = v & 0x80000000 ? Number(idx.readBigUInt64BE(bigStart + (v & 0x7fffffff) * 8)) : v;
    }
    this.sorted = Float64Array.from(this.offsets).sort();
    this.path = idxPath.replace(/\.idx$/, '.pack');
    this.fd = openSync(this.path, 'r');
    this.end = fstatSync(this.fd).size - 20;
  }

  find(oid: Buffer): number | undefined {
    const first = oid[0]!;
    let lo = first === 0 ? 0 : this.fanout[first - 1]!;
    let hi = this.fanout[first]!;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.oids.compare(oid, 0, 20, mid * 20, mid * 20 + 20);
      if (c === 0) return this.offsets[mid];
      if (c > 0) hi = mid;
      else lo = mid + 1;
    }
    return undefined;
  }

  /** Ids of the objects in this pack whose hex name starts with `prefix` (lower-case). */
  startingWith(prefix: string): string[] {
    const low = Buffer.from(prefix.padEnd(40, '0'), 'hex');
    const first = low[0]!;
    let lo = first === 0 ? 0 : this.fanout[first - 1]!;
    let hi = this.fanout[first]!;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.oids.compare(low, 0, 20, mid * 20, mid * 20 + 20) < 0) lo = mid + 1;
      else hi = mid;
    }
    const out: string[] = [];
    for (let i = lo; i < this.fanout[255]!; i++) {
      const hex = this.oids.toString('hex', i * 20, i * 20 + 20);
      if (!hex.startsWith(prefix)) break;
      out.push(hex);
    }
    return out;
  }

  private nextOffset(offset: number): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid]! <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.sorted.length ? this.sorted[lo]! : this.end;
  }

  read(offset: number): Buffer {
    const len = this.nextOffset(offset) - offset;
    const buf = Buffer.allocUnsafe(len);
    let got = 0;
    while (got < len) {
      const n = readSync(this.fd!, buf, got, len - got, offset + got);
      if (n === 0) throw new Error(`unexpected end of ${this.path}`);
      got += n;
    }
    return buf;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function applyDelta(base: Buffer, delta: Buffer): Buffer {
  let pos = 0;
  const varint = (): number => {
    let v = 0;
    let shift = 0;
    let b: number;
    do {
      b = delta[pos++]!;
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return v;
  };
  const srcSize = varint();
  if (srcSize !== base.length) throw new Error('delta base size mismatch');
  const out = Buffer.allocUnsafe(varint());
  let o = 0;
  while (pos < delta.length) {
    const op = delta[pos++]!;
    if (op & 0x80) {
      let off = 0;
      let size = 0;
      for (let i = 0; i < 4; i++) if (op & (1 << i)) off += delta[pos++]! * 2 ** (8 * i);
      for (let i = 0; i < 3; i++) if (op & (0x10 << i)) size += delta[pos++]! * 2 ** (8 * i);
      if (size === 0) size = 0x10000;
      base.copy(out, o, off, off + size);
      o += size;
    } else if (op) {
      delta.copy(out, o, pos, pos + op);
      o += op;
      pos += op;
    } else {
      throw new Error('invalid delta opcode 0');
    }
  }
  if (o !== out.length) throw new Error('delta result size mismatch');
  return out;
}

export class ObjectReader {
  private readonly gitdir: string;
  private packs: Pack[] = [];
  private packNames = new Set<string>();
  private readonly bases = new Map<string, GitObject>();
  private baseBytes = 0;

  constructor(gitdir: string) {
    this.gitdir = gitdir;
    this.scanPacks();
  }

  /** Picks up packs added since (a fetch); cheap when nothing changed. */
  private scanPacks(): boolean {
    let names: string[];
    try {
      names = readdirSync(join(this.gitdir, 'objects', 'pack'));
    } catch {
      return false;
    }
    let added = false;
    for (const name of names) {
      if (!name.endsWith('.idx') || this.packNames.has(name)) continue;
      if (!names.includes(name.replace(/\.idx$/, '.pack'))) continue;
      this.packs.push(new Pack(join(this.gitdir, 'objects', 'pack', name)));
      this.packNames.add(name);
      added = true;
    }
    return added;
  }

  /** The object, or undefined when this repository does not have it. */
  read(oid: string): GitObject | undefined {
    const found = this.readPacked(oid) ?? this.readLoose(oid);
    if (found) return found;
    return this.scanPacks() ? this.readPacked(oid) : undefined;
  }

  has(oid: string): boolean {
    const bin = Buffer.from(oid, 'hex');
    if (this.packs.some((p) => p.find(bin) !== undefined)) return true;
    if (existsSync(join(this.gitdir, 'objects', oid.slice(0, 2), oid.slice(2)))) return true;
    return this.scanPacks() && this.packs.some((p) => p.find(bin) !== undefined);
  }

  /** Ids of the objects whose hex name starts with `prefix` (4 to 40 lower-case hex digits). */
  withPrefix(prefix: string): string[] {
    this.scanPacks();
    const found = new Set<string>();
    for (const p of this.packs) for (const oid of p.startingWith(prefix)) found.add(oid);
    const dir = prefix.slice(0, 2);
    let loose: string[] = [];
    try {
      loose = readdirSync(join(this.gitdir, 'objects', dir));
    } catch {
      // no loose object in this fan-out directory
    }
    for (const name of loose)
      if (name.length === 38 && (dir + name).startsWith(prefix)) found.add(dir + name);
    return [...found].sort();
  }

  close(): void {
    for (const p of this.packs) p.close();
    this.packs = [];
    this.packNames.clear();
    this.bases.clear();
  }

  private readPacked(oid: string): GitObject | undefined {
    const bin = Buffer.from(oid, 'hex');
    for (const pack of this.packs) {
      const offset = pack.find(bin);
      if (offset !== undefined) return this.readAt(pack, offset);
    }
    return undefined;
  }

  private readLoose(oid: string): GitObject | undefined {
    let raw: Buffer;
    try {
      raw = inflateSync(readFileSync(join(this.gitdir, 'objects', oid.slice(0, 2), oid.slice(2))));
    } catch {
      return undefined;
    }
    const nul = raw.indexOf(0);
    const type = raw.toString('latin1', 0, raw.indexOf(32)) as ObjectType;
    return { type, data: raw.subarray(nul + 1) };
  }

  private readAt(pack: Pack, offset: number): GitObject {
    const key = `${pack.path}:${offset}`;
    const cached = this.bases.get(key);
    if (cached) {
      // LRU: move to the end.
      this.bases.delete(key);
      this.bases.set(key, cached);
      return cached;
    }
    const buf = pack.read(offset);
    let pos = 0;
    let b = buf[pos++]!;
    const typeNum = (b >> 4) & 7;
    while (b & 0x80) b = buf[pos++]!;
    let obj: GitObject;
    if (typeNum === OFS_DELTA) {
      b = buf[pos++]!;
      let rel = b & 0x7f;
      while (b & 0x80) {
        b = buf[pos++]!;
        rel = (rel + 1) * 128 + (b & 0x7f);
      }
      const base = this.readAt(pack, offset - rel);
      obj = { type: base.type, data: applyDelta(base.data, inflateSync(buf.subarray(pos))) };
    } else if (typeNum === REF_DELTA) {
      const baseOid = buf.toString('hex', pos, pos + 20);
      const base = this.read(baseOid);
      if (!base) throw new Error(`missing delta base ${baseOid} in ${pack.path}`);
      obj = { type: base.type, data: applyDelta(base.data, inflateSync(buf.subarray(pos + 20))) };
    } else {
      const type = TYPES[typeNum];
      if (!type) throw new Error(`unknown object type ${typeNum} in ${pack.path}`);
      obj = { type, data: inflateSync(buf.subarray(pos)) };
    }
    // Trees and commits are small and reused as delta bases; keep recent objects.
    this.bases.set(key, obj);
    this.baseBytes += obj.data.length;
    while (this.baseBytes > BASE_CACHE_BYTES && this.bases.size > 1) {
      const [k, v] = this.bases.entries().next().value as [string, GitObject];
      this.bases.delete(k);
      this.baseBytes -= v.data.length;
    }
    return obj;
  }
}
