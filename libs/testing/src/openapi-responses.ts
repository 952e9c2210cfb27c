import { readFileSync } from 'node:fs';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/** One HTTP response as a client saw it. `body` is the parsed JSON, or undefined when the body was empty. */
export interface RecordedResponse {
  method: string;
  /** The concrete request path as sent, with the server prefix and optionally a query: `/api/v1/documents/4f…?x=1`. */
  path: string;
  status: number;
  /** The `content-type` header, or null when there was none. */
  contentType: string | null;
  body: unknown;
}

/** What checking one response found: the operation it matched (if any) and every violation, readable. */
export interface ResponseCheck {
  operation: string | null;
  violations: string[];
}

type Json = Record<string, unknown>;
const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']);
const DOCUMENT_ID = 'openapi';
const OPENAPI_SCHEMA_ANNOTATIONS = ['example', 'discriminator', 'xml', 'externalDocs'];

/** JSON Pointer (RFC 6901) of a path of keys. */
const pointer = (keys: string[]) => keys.map((k) => `/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
const mediaTypeOf = (contentType: string | null) => contentType?.split(';')[0].trim().toLowerCase() ?? null;
const isJsonMediaType = (mediaType: string) => mediaType === 'application/json' || mediaType.endsWith('+json');
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface Operation {
  name: string;
  /** The server URL's path the template is below: the document's, or the operation's own `servers` (a public root route). */
  prefix: string;
  template: string;
  regex: RegExp;
  templatedSegments: number;
  method: string;
  keys: string[];
  responses: Json;
}

/**
 * Checks real HTTP responses against an OpenAPI 3.1 document: the operation is found by
 * matching the concrete path against the path templates (below the first server's URL), the
 * response by status (exact, then `4XX`-style range, then `default`), the media type by the
 * response's content type, and the body against that media type's schema with Ajv's JSON
 * Schema 2020-12 dialect (OpenAPI 3.1's). `$ref`s resolve inside the document.
 */
export class OpenApiResponseValidator {
  private readonly ajv: Ajv2020;
  private readonly operations: Operation[];
  private readonly prefix: string;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly document: Json) {
    this.ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, validateSchema: false });
    // OpenAPI's schema annotations, and the document's own top-level fields (the whole
    // document is added as one schema so that its `#/components/...` refs resolve): strict
    // mode still refuses any other unknown keyword, e.g. a misspelt one
    for (const keyword of [...OPENAPI_SCHEMA_ANNOTATIONS, ...Object.keys(document)]) this.ajv.addKeyword({ keyword });
    addFormats(this.ajv);
    this.ajv.addSchema(document, DOCUMENT_ID);
    const servers = (document.servers as Array<{ url: string }> | undefined) ?? [];
    this.prefix = (servers[0]?.url ?? '').replace(/\/$/, '');
    const prefixOf = (operation: Json) => {
      const own = (operation.servers as Array<{ url: string }> | undefined)?.[0]?.url;
      return own === undefined ? this.prefix : own.replace(/\/$/, '');
    };
    this.operations = Object.entries((document.paths as Record<string, Json> | undefined) ?? {})
      .flatMap(([template, item]) =>
        Object.entries(item)
          .filter(([method]) => HTTP_METHODS.has(method))
          .map(([method, op]) => {
            const operation = op as Json;
            const segments = template.split('/');
            const regex = new RegExp(`^${segments.map((s) => (/^\{[^}]+\}$/.test(s) ? '[^/]+' : escapeRegExp(s))).join('/')}$`);
            return {
              name: `${method.toUpperCase()} ${template}${operation.operationId ? ` (${String(operation.operationId)})` : ''}`,
              prefix: prefixOf(operation),
              template,
              regex,
              templatedSegments: segments.filter((s) => s.startsWith('{')).length,
              method,
              keys: ['paths', template, method],
              responses: (operation.responses as Json | undefined) ?? {},
            };
          }),
      )
      // a literal segment wins over a template (`/threads/mine` before `/threads/{id}`)
      .sort((a, b) => a.templatedSegments - b.templatedSegments);
  }

  /** Reads an OpenAPI document (JSON) from disk. */
  static fromFile(path: string): OpenApiResponseValidator {
    return new OpenApiResponseValidator(JSON.parse(readFileSync(path, 'utf8')) as Json);
  }

  check(response: RecordedResponse): ResponseCheck {
    const method = response.method.toLowerCase();
    const rawPath = response.path.split('?')[0];
    const at = `${response.method.toUpperCase()} ${rawPath} → ${response.status}`;
    const below = (prefix: string) => prefix === '' || rawPath.startsWith(`${prefix}/`);
    const operation = this.operations.find(
      (op) => op.method === method && below(op.prefix) && op.regex.test(rawPath.slice(op.prefix.length)),
    );
    if (!operation && this.prefix && !below(this.prefix)) {
      return { operation: null, violations: [`${at}: path is not below the server URL ${this.prefix}`] };
    }
    if (!operation) return { operation: null, violations: [`${at}: no operation in the document matches`] };
    const where = `${operation.name} → ${response.status}`;

    const statusKey = [String(response.status), `${String(response.status)[0]}XX`, 'default'].find((k) => k in operation.responses);
    if (!statusKey) {
      const documented = Object.keys(operation.responses).join(', ');
      return { operation: operation.name, violations: [`${where}: status not documented (documented: ${documented})`] };
    }
    const [responseObject, responseKeys] = this.resolve(operation.responses[statusKey] as Json, [
      ...operation.keys,
      'responses',
      statusKey,
    ]);
    const content = responseObject.content as Record<string, Json> | undefined;
    const mediaType = mediaTypeOf(response.contentType);
    if (!content || Object.keys(content).length === 0) {
      const empty = response.body === undefined;
      return {
        operation: operation.name,
        violations: empty ? [] : [`${where}: documented without a body, but one was sent (${mediaType})`],
      };
    }
    if (response.body === undefined) return { operation: operation.name, violations: [`${where}: body missing`] };
    const documentedTypes = Object.keys(content);
    const matched =
      mediaType &&
      (documentedTypes.find((t) => t.toLowerCase() === mediaType) ??
        documentedTypes.find((t) => t.endsWith('/*') && mediaType.startsWith(t.slice(0, -1).toLowerCase())) ??
        documentedTypes.find((t) => t === '*/*'));
    if (!matched) {
      return {
        operation: operation.name,
        violations: [`${where}: content type ${mediaType ?? '(none)'} not documented (documented: ${documentedTypes.join(', ')})`],
      };
    }
    if (!isJsonMediaType(mediaType) || !content[matched].schema) return { operation: operation.name, violations: [] };
    const validate = this.validatorFor([...responseKeys, 'content', matched, 'schema']);
    if (validate(response.body)) return { operation: operation.name, violations: [] };
    return {
      operation: operation.name,
      violations: (validate.errors ?? []).map((e) => `${where} ${matched}: ${describe(e)}`),
    };
  }

  /** Follows `$ref`s of response objects (`#/components/responses/…`), keeping the JSON pointer keys. */
  private resolve(object: Json, keys: string[]): [Json, string[]] {
    let current = object;
    let currentKeys = keys;
    for (let hops = 0; typeof current.$ref === 'string'; hops++) {
      const ref = current.$ref;
      if (!ref.startsWith('#/') || hops > 10) throw new Error(`unsupported $ref ${ref} at ${pointer(currentKeys)}`);
      currentKeys = ref
        .slice(2)
        .split('/')
        .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
      current = currentKeys.reduce<unknown>((node, k) => (node as Json | undefined)?.[k], this.document) as Json;
      if (!current) throw new Error(`unresolvable $ref ${ref}`);
    }
    return [current, currentKeys];
  }

  private validatorFor(keys: string[]): ValidateFunction {
    const ref = `${DOCUMENT_ID}#${pointer(keys)}`;
    let validate = this.compiled.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: ref });
      this.compiled.set(ref, validate);
    }
    return validate;
  }
}

function describe(error: ErrorObject): string {
  const at = error.instancePath === '' ? '(body)' : error.instancePath;
  const params = error.params as Record<string, unknown>;
  const detail =
    error.keyword === 'additionalProperties'
      ? ` (${String(params.additionalProperty)})`
      : error.keyword === 'enum'
        ? ` (${JSON.stringify(params.allowedValues)})`
        : '';
  return `${at} ${error.message ?? error.keyword}${detail}`;
}

/**
 * Collects responses (e.g. every response a test's client got) and checks them all at once:
 * `violations` lists what broke the document, `operations` which operations were checked.
 */
export class ResponseRecorder {
  readonly responses: RecordedResponse[] = [];

  record(response: RecordedResponse): void {
    this.responses.push(response);
  }

  checkAll(validator: OpenApiResponseValidator): { violations: string[]; operations: string[] } {
    const checks = this.responses.map((r) => validator.check(r));
    const operations = [...new Set(checks.flatMap((c) => (c.operation ? [c.operation] : [])))].sort();
    return { violations: [...new Set(checks.flatMap((c) => c.violations))], operations };
  }
}
