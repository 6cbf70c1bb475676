/** Jest, fault suite (`npm run test:faults`): the same real PostgreSQL setup, only test/faults. */
const base = require('./jest.config');

module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/faults/**/*.faults.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 300000,
  // The scenarios spawn processes and restart servers: one file at a time keeps them fair on 2 cores.
  maxWorkers: 1,
};
