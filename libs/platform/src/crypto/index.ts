export * from './public-jwk';
export * from './jwe-inspector';
