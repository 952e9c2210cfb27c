export * from './problem';
export * from './problem-json.filter';
export * from './zod';
