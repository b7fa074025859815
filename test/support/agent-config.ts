/**
 * The chart renders `appResources: {enabled, labelSelector}` into the agent's config (issue 21,
 * Apps as resources). The agent's side of that issue adds the key to the config schema
 * (src/config/schema.ts). Until it has, tests that hand a rendered config to this agent drop
 * the key; once the schema knows it, the config passes through unchanged and this file can go.
 */
import { parse, stringify } from 'yaml';
import { configSchema } from '../../src/config/schema.ts';

/** True once src/config/schema.ts takes `appResources`. */
export const agentKnowsAppResources = 'appResources' in configSchema.shape;

/** A rendered config (YAML) as this build of the agent takes it. */
export function forThisAgent(yamlText: string): string {
  if (agentKnowsAppResources) return yamlText;
  const config = parse(yamlText) as Record<string, unknown>;
  delete config.appResources;
  return stringify(config);
}
