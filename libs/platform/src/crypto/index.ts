export * from './public-jwk';
