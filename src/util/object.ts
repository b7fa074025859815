/** A plain object: not null, not an array (a JSON mapping, as parsed YAML or JSON yields). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
