export type { DriftInput, DriftResult, DriftStatus, FieldDrift } from './drift.ts';
export { DEFAULT_MANAGER, classifyFieldDrift, computeDrift } from './drift.ts';
export type { CompiledIgnoreRule, FieldFacts, IgnoreRule } from './ignore.ts';
export { compileIgnoreRules, ignoreRulesFor, isFieldIgnored } from './ignore.ts';
export { MASK, MASK_CHANGED, isSecret, maskSecret, maskSecretPair } from './mask.ts';
export {
  LAST_APPLIED_ANNOTATION,
  SERVER_METADATA_FIELDS,
  isServerManagedPath,
  normalizeForDiff,
} from './normalize.ts';
export type { UnifiedDiffOptions } from './format-text.ts';
export {
  formatDriftValue,
  formatDriftValues,
  formatFieldDrift,
  formatOwner,
  formatOwnersBrief,
  toYaml,
  unifiedYamlDiff,
} from './format-text.ts';
export type { LineOp } from './line-diff.ts';
export { diffLines } from './line-diff.ts';
export type { Operation } from './patch.ts';
export { jsonPatch } from './patch.ts';
export { DriftInputError, IgnoreRuleError } from './errors.ts';
export { markdownCell, markdownReport } from './format-markdown.ts';
export type { MarkdownObject, MarkdownReport } from './format-markdown.ts';
export { junitReport, xmlEscape } from './format-junit.ts';
export type { JunitCase } from './format-junit.ts';
