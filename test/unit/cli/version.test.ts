import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultAuditLog } from '../../../src/cli/common.ts';
import { clientVersion, formatVersion } from '../../../src/cli/version.ts';

const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../../package.json'), 'utf8')) as {
  version: string;
};

describe('tether version', () => {
  it('reads the client version from package.json', () => {
    expect(clientVersion()).toBe(`v${pkg.version}`);
  });

  it('prints the client and, when known, the server version in text, json and yaml', () => {
    const info = { clientVersion: { gitVersion: 'v0.1.0' }, serverVersion: { gitVersion: 'v1.36.3' } };
    expect(formatVersion(info, 'text')).toBe('Client Version: v0.1.0\nServer Version: v1.36.3\n');
    expect(formatVersion({ clientVersion: info.clientVersion }, 'text')).toBe('Client Version: v0.1.0\n');
    expect(JSON.parse(formatVersion(info, 'json'))).toEqual(info);
    expect(formatVersion(info, 'yaml')).toContain('gitVersion: v1.36.3');
  });
});

describe('the CLI audit log default', () => {
  const home = () => '/home/ada';

  it('is in the XDG state directory, never the working directory', () => {
    expect(defaultAuditLog({}, home)).toBe('/home/ada/.local/state/tether/audit.jsonl');
    expect(defaultAuditLog({ XDG_STATE_HOME: '/var/state' }, home)).toBe('/var/state/tether/audit.jsonl');
  });

  it('ignores a relative or empty XDG_STATE_HOME, as the XDG spec says', () => {
    expect(defaultAuditLog({ XDG_STATE_HOME: 'state' }, home)).toBe(
      '/home/ada/.local/state/tether/audit.jsonl',
    );
    expect(defaultAuditLog({ XDG_STATE_HOME: '' }, home)).toBe('/home/ada/.local/state/tether/audit.jsonl');
  });
});
