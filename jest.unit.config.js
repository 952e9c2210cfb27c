/** Unit tests: pure logic, `*.spec.ts` beside the code. */
module.exports = {
  ...require('./jest.preset'),
  rootDir: __dirname,
  displayName: 'unit',
  testMatch: ['<rootDir>/{apps,libs,tools}/**/*.spec.ts'],
};
