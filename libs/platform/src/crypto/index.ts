export * from './public-jwk';
export * from './jwe-inspector';
export * from './secret-box';
export * from './receipt-keys';
