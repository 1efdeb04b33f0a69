import { defineConfig } from 'vitest/config';

// Long crash, fault and rate-limit scenarios (npm run test:chaos). Their files end in .chaos.ts so
// the default suite (tests/**/*.test.ts) never picks them up. CHAOS_KILLS, CHAOS_CUTS and
// CHAOS_STUDIES scale them down for CI.
export default defineConfig({
  test: {
    include: ['tests/chaos/**/*.chaos.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 600_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
