/** Node.js-only parts of the SDK (`@dvd/sdk/node`): the reference export receiver and key files. */
export * from './export-receiver';
export * from './key-files';
