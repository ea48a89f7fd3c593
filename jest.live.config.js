// `npm run test:live`: the end-to-end files marked `@live` in their header, against the Azure of a settings file
// (test/run-live.sh), each followed by the clean-up of what it made (test/live/after-file.ts).
const fs = require('node:fs');
const path = require('node:path');
const base = require('./jest.config.js');

const e2e = path.join(__dirname, 'test', 'e2e');
const live = fs
  .readdirSync(e2e)
  .filter((f) => f.endsWith('.test.ts') && /^ \* @live$/m.test(fs.readFileSync(path.join(e2e, f), 'utf8').split('*/')[0]))
  .map((f) => `<rootDir>/test/e2e/${f}`);

/** @type {import('jest').Config} */
module.exports = { ...base, testMatch: live, setupFilesAfterEnv: ['<rootDir>/test/live/after-file.ts'] };
