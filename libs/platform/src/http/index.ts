export * from './paging';
export * from './early-response';
