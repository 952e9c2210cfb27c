import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// Adds `.openapi(...)` to zod schemas (plain TypeScript, browser-safe). Every contract file
// imports `z` from here so that the extension is in place before any schema is built.
extendZodWithOpenApi(z);

export { z };
