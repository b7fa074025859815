import { describe, expect, it } from 'vitest';
import { junitReport, xmlEscape } from '../../../src/diff/index.ts';

describe('junitReport', () => {
  it('counts failures and errors and escapes everything it writes', () => {
    const xml = junitReport(
      'a&b',
      [
        { classname: 'v1 ConfigMap', name: 'ns/ok', status: 'in-sync', outcome: 'pass', fields: [] },
        {
          classname: 'apps/v1 Deployment',
          name: 'ns/web',
          status: 'drifted',
          outcome: 'failure',
          file: 'app/<web>.yaml',
          line: 3,
          fields: [{ path: '.metadata.labels["a"]', desired: 'x<y', live: null, owners: [] }],
        },
        {
          classname: 'v1 Secret',
          name: 'ns/s',
          status: 'error',
          outcome: 'error',
          fields: [],
          message: 'forbidden: "no"',
        },
      ],
      new Date('2026-01-02T03:04:05.678Z'),
    );
    expect(xml).toContain('<testsuites name="tether drift" tests="3" failures="1" errors="1">');
    expect(xml).toContain(
      '<testsuite name="a&amp;b" tests="3" failures="1" errors="1" timestamp="2026-01-02T03:04:05">',
    );
    expect(xml).toContain('file="app/&lt;web&gt;.yaml" line="3"');
    expect(xml).toContain(
      '.metadata.labels[&quot;a&quot;]: git &quot;x&lt;y&quot;, live &lt;absent&gt;; no owner',
    );
    expect(xml).toContain('<error type="error" message="forbidden: &quot;no&quot;"/>');
    expect(xml).toContain('<testcase classname="v1 ConfigMap" name="ns/ok"/>');
  });

  it('drops characters XML 1.0 cannot carry', () => {
    expect(xmlEscape('a\u0001b\tc')).toBe('ab\tc');
  });
});
