import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/collector/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/worker/**/*.test.ts', 'test/relay/**/*.test.ts', 'test/otel/**/*.test.ts', 'test/integrations/**/*.test.ts', 'test/examples/**/*.test.ts'],
    // A stray `.only` fails the run in CI (vitest's default too, stated so nobody turns it off by accident).
    allowOnly: !process.env.CI,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: run files in parallel but keep each file's tests in order.
    maxWorkers: 2,
  },
});
