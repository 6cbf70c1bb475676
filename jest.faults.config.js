/** Jest, fault suite (`npm run test:faults`): the same real PostgreSQL setup, only test/faults. */
const base = require('./jest.config');

module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/faults/**/*.faults.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 300000,
  // The scenarios spawn processes and restart servers: one file at a time keeps them fair on 2 cores.
  maxWorkers: 1,
  // Spawned processes' pipes and restarted servers' sockets can outlive a scenario by a moment;
  // CI must never wait on them after the results are in.
  forceExit: true,
};
