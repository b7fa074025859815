import { describe, expect, it } from 'vitest';
import {
  IgnoreRuleError,
  compileIgnoreRules,
  ignoreRulesFor,
  isFieldIgnored,
} from '../../../src/diff/index.ts';
import { parsePath } from '../../../src/fieldset/index.ts';
import { kubeObject } from '../../support/objects.ts';

describe('ignore rules', () => {
  it('rejects an empty rule and a bad path, naming the rule', () => {
    expect(() => compileIgnoreRules([{ paths: ['.spec'] }, {}])).toThrow(IgnoreRuleError);
    expect(() => compileIgnoreRules([{}])).toThrow('ignore rule 1 has no paths');
    expect(() => compileIgnoreRules([{ paths: ['.spec[name='] }])).toThrow(
      /ignore rule 1: invalid field path/,
    );
  });

  it('selects rules by kind (or group/kind) and name (or namespace/name)', () => {
    const rules = compileIgnoreRules([
      { kinds: ['Deployment'], managers: ['a'] },
      { kinds: ['apps/Deployment'], managers: ['b'] },
      { kinds: ['batch/Deployment'], managers: ['c'] },
      { names: ['web'], managers: ['d'] },
      { names: ['shop/web'], managers: ['e'] },
      { names: ['other/web'], managers: ['f'] },
    ]);
    const obj = kubeObject('apps/v1', 'Deployment', { name: 'web', namespace: 'shop' });
    expect(ignoreRulesFor(rules, obj).map((r) => r.rule.managers?.[0])).toEqual(['a', 'b', 'd', 'e']);
  });

  it('matches paths, pointers with * segments, and managers together', () => {
    const rules = compileIgnoreRules([
      { paths: ['/spec/template/spec/containers/*/image'], managers: ['image-updater'] },
    ]);
    const facts = {
      path: parsePath('.spec.template.spec.containers[name=web].image'),
      pointers: ['/spec/template/spec/containers/1/image'],
      owners: [{ manager: 'image-updater', operation: 'Update' as const }],
    };
    expect(isFieldIgnored(rules, facts)).toBe(true);
    expect(
      isFieldIgnored(rules, { ...facts, owners: [{ manager: 'kubectl-edit', operation: 'Update' }] }),
    ).toBe(false);
    expect(
      isFieldIgnored(rules, { ...facts, pointers: ['/spec/template/spec/initContainers/0/image'] }),
    ).toBe(false);
    expect(isFieldIgnored([], facts)).toBe(false);
  });
});
