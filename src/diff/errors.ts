import { TetherError } from '../errors.ts';

/** computeDrift was given input it cannot compare (e.g. a dry-run result without Tether's managedFields entry). */
export class DriftInputError extends TetherError {}

/** An ignore rule that cannot be used (bad path, or no criteria at all). */
export class IgnoreRuleError extends TetherError {}
