import { defineConfig } from 'vitest/config';

// Two projects: `unit` is pure and fast; `integration` talks to a real kube-apiserver and a
// real git smart-HTTP server, started once for the whole run by the global setup.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
