import { afterEach, describe, expect, it, vi } from 'vitest';
import { printError } from '../../../src/cli/output.ts';
import { redactUrl } from '../../../src/errors.ts';
import { formatId } from '../../../src/manifests/index.ts';
import { formatLocation } from '../../../src/manifests/errors.ts';
import { ConnectionRefusedError } from '../../../src/source/errors.ts';
import { escapeControls, escapeName } from '../../../src/util/escape.ts';

describe('escapeName', () => {
  it('leaves ordinary names alone', () => {
    for (const name of ['apps/web/deploy.yaml', 'dir with spaces/ä-ü.yml', 'a\\b.yaml', 'emoji-🚀.yaml'])
      expect(escapeName(name)).toBe(name);
  });

  it('writes control characters JSON-style: C0, DEL, C1, line separators, bidi overrides', () => {
    expect(escapeName('a\nb\rc\td')).toBe('a\\nb\\rc\\td');
    expect(escapeName('x\u001b[2Jy')).toBe('x\\u001b[2Jy');
    expect(escapeName('\u0000\u0007\u007f\u0085\u009b')).toBe('\\u0000\\u0007\\u007f\\u0085\\u009b');
    expect(escapeName('a\u2028b\u202ec\u2066d')).toBe('a\\u2028b\\u202ec\\u2066d');
  });

  it('escapeControls keeps newlines and tabs of multi-line messages', () => {
    expect(escapeControls('line 1\n\tline 2\u001b[31m\r')).toBe('line 1\n\tline 2\\u001b[31m\\r');
  });

  it('is used where locations and object ids are formatted', () => {
    expect(formatLocation({ file: 'a\u001b[2J\nb.yaml', line: 3, column: 4 })).toBe(
      'a\\u001b[2J\\nb.yaml:3:4',
    );
    expect(
      formatId({ group: 'x.io', version: 'v1', kind: 'Thing', namespace: 'ns', name: 'n\u001b]0;t\u0007' }),
    ).toBe('x.io/v1 Thing ns/n\\u001b]0;t\\u0007');
  });
});

describe('redactUrl', () => {
  it('masks user:password@ and every query value, keeping the rest of the URL', () => {
    expect(redactUrl('cannot reach https://host/repo.git?token=abc123: refused')).toBe(
      'cannot reach https://host/repo.git?token=***: refused',
    );
    expect(redactUrl('https://u:p@h/r.git?ref=main&access_token=zz#f')).toBe(
      'https://***@h/r.git?ref=***&access_token=***#f',
    );
    expect(redactUrl('(see https://h/r?abc123).')).toBe('(see https://h/r?***).');
    expect(redactUrl('https://h/r.git and git@h:o/r.git')).toBe('https://h/r.git and git@h:o/r.git');
  });

  it('masks credential pairs outside URLs, but not other pairs', () => {
    expect(redactUrl('password=hunter22 private_token=glpat-1 api_key=k1 level=debug key=value')).toBe(
      'password=*** private_token=*** api_key=*** level=debug key=value',
    );
  });

  it('applies to every source error, whichever URL it quotes', () => {
    const e = new ConnectionRefusedError('connection refused for https://h/r.git?token=abc123', {
      hint: 'check https://h/r.git?token=abc123',
    });
    expect(e.message).not.toContain('abc123');
    expect(e.hint).not.toContain('abc123');
  });

  it('source errors are one line: a symlink name cannot forge lines either', () => {
    const e = new ConnectionRefusedError('app/link\nerror: forged\u001b[2J: symlink refused');
    expect(e.message).toBe('app/link\\nerror: forged\\u001b[2J: symlink refused');
  });
});

describe('printError', () => {
  afterEach(() => vi.restoreAllMocks());

  it('redacts URLs and escapes control characters, keeping one problem per line', () => {
    let written = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written += String(chunk);
      return true;
    });
    printError(new Error('two problems:\na\u001b[2J.yaml at https://h/r?token=abc123\r'), false);
    expect(written).not.toContain('abc123');
    expect(written).not.toContain('\u001b[2J');
    expect(written).not.toContain('\r');
    expect(written).toContain('error: two problems:\na\\u001b[2J.yaml at https://h/r?token=***\\r\n');
  });
});
