export * from './identity-signature';
export * from './identity.guard';
