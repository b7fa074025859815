import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import { configProblems } from './helpers.ts';

const APP = `apps:\n  - name: shop\n    source: {repo: https://git.example.com/org/deploy.git}\n`;

const errors = (text: string) => configProblems(text);

describe('the ui: key', () => {
  it('serves the status page by default, without credentials', () => {
    expect(parseConfig(APP, '/etc/tether/tether.yaml').ui).toEqual({ enabled: true });
  });

  it('resolves the credential files against the config file, and may be switched off', () => {
    const text = `ui:\n  enabled: false\n  auth: {bearerTokenFile: secrets/token, basicAuthFile: /abs/users}\n${APP}`;
    expect(parseConfig(text, '/etc/tether/tether.yaml').ui).toEqual({
      enabled: false,
      auth: { bearerTokenFile: '/etc/tether/secrets/token', basicAuthFile: '/abs/users' },
    });
  });

  it('refuses unknown keys, an auth without a file and secrets written inline, naming the line', () => {
    expect(errors(`ui:\n  enable: true\n${APP}`)).toEqual([
      'tether.yaml:2:3: ui.enable: unknown key (did you mean enabled?); allowed keys: enabled, auth',
    ]);
    expect(errors(`ui:\n  auth: {}\n${APP}`)).toEqual([
      'tether.yaml:2:9: ui.auth: set bearerTokenFile or basicAuthFile (or both), or leave auth out',
    ]);
    expect(errors(`ui:\n  auth: {token: hunter2}\n${APP}`)).toContainEqual(
      expect.stringMatching(
        /^tether\.yaml:2:10: ui\.auth\.token: unknown key \(secrets never go in this file/,
      ),
    );
    expect(errors(`ui: {enabled: "yes"}\n${APP}`)).toEqual([
      'tether.yaml:1:15: ui.enabled: expected true or false, got the string "yes"',
    ]);
  });
});
