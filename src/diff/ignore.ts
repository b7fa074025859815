/**
 * Ignore rules: fields that never count as drift.
 *
 * A rule applies to an object when its `kinds` (if given) include the object's kind (`Deployment`,
 * or `group/Kind` such as `apps/Deployment`; core kinds have the empty group: `/Service`) and its
 * `names` (if given) include the object's name (`web` or `namespace/web`).
 * Within an applicable rule, a field is ignored when
 * - `paths` is not given, or one of them covers the field (the path itself or an ancestor), and
 * - `managers` is not given, or one of them owns the field in the live object.
 * So `{managers: ['kube-controller-manager']}` ignores whatever that manager owns, `{paths:
 * ['.spec.replicas'], managers: ['hpa']}` ignores replicas only while the HPA owns them, and
 * `{kinds: ['Secret'], names: ['generated']}` ignores that object entirely. A rule must name at
 * least one criterion.
 *
 * Paths are display paths (`.spec.template.spec.containers[name=web].env`), which may use `[*]`
 * for any list item and `.*` for any field, and whose key items match by subset
 * (`[containerPort=80]` matches `[containerPort=80,protocol=TCP]`); or RFC 6901 JSON pointers
 * (`/spec/replicas`, `/spec/template/spec/containers/0/image`) whose numbers are list positions
 * in the object and where a `*` segment matches anything.
 */
import type { Owner } from '../fieldset/managers.ts';
import { isPlainObject } from '../fieldset/json.ts';
import type { Path, PathPattern } from '../fieldset/path.ts';
import { parsePathPattern, patternCovers } from '../fieldset/path.ts';
import { FieldPathError } from '../fieldset/errors.ts';
import { IgnoreRuleError } from './errors.ts';

export interface IgnoreRule {
  /** Display paths or JSON pointers ('/spec/replicas'). */
  paths?: string[];
  managers?: string[];
  kinds?: string[];
  names?: string[];
}

type PathMatcher = { pattern: PathPattern } | { pointer: string[] };

export interface CompiledIgnoreRule {
  rule: IgnoreRule;
  paths: PathMatcher[] | undefined;
}

/** The facts about one field that rules are matched against. */
export interface FieldFacts {
  path: Path;
  /** JSON pointers of the field in the desired and live objects (where it exists). */
  pointers: string[];
  /** Owners of the field in the live object. */
  owners: Owner[];
}

function unescapePointer(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}

/** Parses the rules' paths once. Throws IgnoreRuleError naming the rule and path. */
export function compileIgnoreRules(rules: IgnoreRule[] | undefined): CompiledIgnoreRule[] {
  return (rules ?? []).map((rule, i) => {
    if (
      rule.paths === undefined &&
      rule.managers === undefined &&
      rule.kinds === undefined &&
      rule.names === undefined
    ) {
      throw new IgnoreRuleError(`ignore rule ${i + 1} has no paths, managers, kinds or names`, {
        hint: 'an empty rule would ignore everything; name what to ignore',
      });
    }
    const paths = rule.paths?.map((text): PathMatcher => {
      if (text.startsWith('/')) return { pointer: text.slice(1).split('/').map(unescapePointer) };
      try {
        return { pattern: parsePathPattern(text) };
      } catch (err) {
        if (err instanceof FieldPathError) {
          throw new IgnoreRuleError(`ignore rule ${i + 1}: ${err.message}`, { hint: err.hint, cause: err });
        }
        throw err;
      }
    });
    return { rule, paths };
  });
}

function groupOf(apiVersion: unknown): string {
  if (typeof apiVersion !== 'string') return '';
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** The rules that apply to `obj` (by kind and name). */
export function ignoreRulesFor(rules: CompiledIgnoreRule[], obj: unknown): CompiledIgnoreRule[] {
  const o = isPlainObject(obj) ? obj : {};
  const kind = typeof o['kind'] === 'string' ? o['kind'] : '';
  const metadata = isPlainObject(o['metadata']) ? o['metadata'] : {};
  const name = typeof metadata['name'] === 'string' ? metadata['name'] : '';
  const namespace = typeof metadata['namespace'] === 'string' ? metadata['namespace'] : '';
  const groupKind = `${groupOf(o['apiVersion'])}/${kind}`;
  return rules.filter(
    ({ rule }) =>
      (rule.kinds === undefined || rule.kinds.some((k) => k === kind || k === groupKind)) &&
      (rule.names === undefined || rule.names.some((n) => n === name || n === `${namespace}/${name}`)),
  );
}

function pointerCovers(pattern: string[], pointer: string): boolean {
  const segments = pointer === '' ? [] : pointer.slice(1).split('/').map(unescapePointer);
  return pattern.length <= segments.length && pattern.every((s, i) => s === '*' || s === segments[i]);
}

function matcherCovers(m: PathMatcher, facts: FieldFacts): boolean {
  if ('pattern' in m) return patternCovers(m.pattern, facts.path);
  return facts.pointers.some((p) => pointerCovers(m.pointer, p));
}

/** Whether any of `rules` (already narrowed with ignoreRulesFor) ignores the field. */
export function isFieldIgnored(rules: CompiledIgnoreRule[], facts: FieldFacts): boolean {
  return rules.some(
    ({ rule, paths }) =>
      (paths === undefined || paths.some((m) => matcherCovers(m, facts))) &&
      (rule.managers === undefined || facts.owners.some((o) => rule.managers?.includes(o.manager))),
  );
}
