/**
 * Vitest global setup for integration tests: one real control plane for the whole run.
 * Uses TETHER_TEST_KUBECONFIG when set (kind, k3d, a real cluster), else reuses the local
 * control plane `npm run cluster -- up` started, else starts one and stops it afterwards.
 */
import type { TestProject } from 'vitest/node';
import { down, up } from '../../tools/controlplane/run.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.TETHER_TEST_KUBECONFIG;
  if (external) {
    project.provide('kubeconfig', external);
    return async () => {};
  }
  const { state, reused } = await up();
  process.stderr.write(`[tether] ${reused ? 'reusing' : 'started'} local control plane at ${state.server}\n`);
  project.provide('kubeconfig', state.kubeconfig);
  return async () => {
    if (!reused) await down();
  };
}
