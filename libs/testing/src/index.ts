export * from './events';
export * from './identity';
export * from './infra';
export * from './jwe';
export * from './local-s3';
export * from './versioned-s3';
export * from './heap';
export * from './tcp-proxy';
