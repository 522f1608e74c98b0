/**
 * The endpoint's OpenAPI 3.1 document (`GET /openapi.json`), generated from the same zod
 * schemas that validate the requests and describe the responses (serving/request-schemas.ts)
 * with zod 4's `z.toJSONSchema`: change a schema and the document follows.
 *
 * OpenAPI 3.1's Schema Object is JSON Schema 2020-12, zod's default target, so the
 * generated schemas go into `components.schemas` as they are.
 */
import { z } from 'zod';
import {
  batchPriceRequestSchema,
  batchPriceResponseSchema,
  errorResponseSchema,
  policySchemaResponseSchema,
  policyStatusSchema,
  priceRequestSchema,
  priceResponseSchema,
  promoteRequestSchema,
  readinessSchema,
  registerRequestSchema,
  rollbackRequestSchema,
  servedExplanationSchema,
} from './request-schemas.js';

type JsonObject = Record<string, unknown>;

/** Each component with how it is used: requests are documented as sent (input), responses as answered (output). */
const components = {
  PriceRequest: { schema: priceRequestSchema, io: 'input' },
  BatchPriceRequest: { schema: batchPriceRequestSchema, io: 'input' },
  RegisterRequest: { schema: registerRequestSchema, io: 'input' },
  PromoteRequest: { schema: promoteRequestSchema, io: 'input' },
  RollbackRequest: { schema: rollbackRequestSchema, io: 'input' },
  Explanation: { schema: servedExplanationSchema, io: 'output' },
  PriceResponse: { schema: priceResponseSchema, io: 'output' },
  BatchPriceResponse: { schema: batchPriceResponseSchema, io: 'output' },
  PolicySchema: { schema: policySchemaResponseSchema, io: 'output' },
  PolicyStatus: { schema: policyStatusSchema, io: 'output' },
  Readiness: { schema: readinessSchema, io: 'output' },
  Error: { schema: errorResponseSchema, io: 'output' },
} as const;

type ComponentName = keyof typeof components;

const ref = (name: ComponentName): JsonObject => ({ $ref: `#/components/schemas/${name}` });
const json = (name: ComponentName, description: string): JsonObject => ({ description, content: { 'application/json': { schema: ref(name) } } });
const error = (description: string): JsonObject => json('Error', description);
const body = (name: ComponentName, description: string): JsonObject => ({ required: true, description, content: { 'application/json': { schema: ref(name) } } });
const nameParameter = { name: 'name', in: 'path', required: true, description: 'the registered policy name', schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' } };
const bearer = [{ bearer: [] }];
const badBody = { '400': error('the body is not valid: its problems by path (the first 20, and how many more)'), '413': error('the body is larger than this route reads') };
const refused = { '401': error('no or a bad bearer token'), '403': error('no token is configured on the server: mutations are refused') };
const loose = (description: string): JsonObject => ({ description, content: { 'application/json': { schema: { type: 'object' } } } });

/** Converts every component, each nested component as a $ref to its own entry. */
function componentSchemas(): Record<ComponentName, JsonObject> {
  const converted = {} as Record<ComponentName, JsonObject>;
  for (const io of ['input', 'output'] as const) {
    const registry = z.registry<{ id: string }>();
    for (const [id, component] of Object.entries(components)) registry.add(component.schema, { id });
    const { schemas } = z.toJSONSchema(registry, { io, uri: (id) => `#/components/schemas/${id}`, unrepresentable: 'any' });
    for (const [id, component] of Object.entries(components) as [ComponentName, (typeof components)[ComponentName]][]) {
      if (component.io !== io) continue;
      converted[id] = withoutKeys((schemas[id] ?? {}) as JsonObject, ['$schema', '$id', 'id']);
    }
  }
  return converted;
}

/** A copy without the given top-level keys (the dialect and id zod adds to each root). */
export function withoutKeys(schema: JsonObject, keys: readonly string[]): JsonObject {
  return Object.fromEntries(Object.entries(schema).filter(([key]) => !keys.includes(key)));
}

let cached: JsonObject | undefined;

/** The OpenAPI 3.1 document of the endpoint. */
export function openApiDocument(): JsonObject {
  cached ??= {
    openapi: '3.1.0',
    info: {
      title: 'pricelab serving',
      version: '1',
      description: 'Prices from registered, promoted policies, with guardrails and explanations; the registry over HTTP (docs/serving.md).',
    },
    components: {
      schemas: componentSchemas(),
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a token from `pricelab token create`; needed for register, promote and rollback, and for reads when requireTokenForReads is set' } },
    },
    paths: {
      '/v1/policies/{name}/price': {
        post: {
          summary: 'one price for a context',
          operationId: 'price',
          parameters: [nameParameter],
          requestBody: body('PriceRequest', 'the features by name (raw values), the last price, competitor prices, a canary key'),
          responses: { '200': json('PriceResponse', 'the served price, every guardrail effect, the explanation'), ...badBody, '404': error('no such policy is served') },
        },
      },
      '/v1/policies/{name}/prices': {
        post: {
          summary: 'a batch of prices (up to 1,000), all or none',
          operationId: 'prices',
          parameters: [nameParameter],
          requestBody: body('BatchPriceRequest', 'the requests; if any is bad, none is decided'),
          responses: { '200': json('BatchPriceResponse', 'one response per request, in order'), ...badBody, '404': error('no such policy is served') },
        },
      },
      '/v1/policies/{name}/schema': {
        get: {
          summary: "what a price request for this policy holds: its features, ladder, guardrails, and the request's JSON Schema",
          operationId: 'policySchema',
          parameters: [nameParameter],
          responses: { '200': json('PolicySchema', 'the production version being served'), '404': error('no such policy is served') },
        },
      },
      '/v1/policies': {
        get: { summary: 'registered policies, versions, aliases, and what is served', operationId: 'listPolicies', responses: { '200': loose('the registry and what is served') } },
        post: {
          summary: 'register an artifact',
          operationId: 'register',
          security: bearer,
          requestBody: body('RegisterRequest', "the artifact's files, base64"),
          responses: { '200': loose('the same content was registered before: that version'), '201': loose('registered: the new version'), ...badBody, ...refused, '422': error('the artifact does not verify') },
        },
      },
      '/v1/policies/{name}/promote': {
        post: {
          summary: 'move an alias; production passes the promotion gates',
          operationId: 'promote',
          security: bearer,
          parameters: [nameParameter],
          requestBody: body('PromoteRequest', 'the version, the alias, why, and the evidence (comparisons; collusion and fairness evidence for gates that set them)'),
          responses: { '200': loose('promoted, with the gates'), ...badBody, ...refused, '404': error('no such policy or version'), '409': loose('a gate refused (the error names it): every gate with its detail') },
        },
      },
      '/v1/policies/{name}/rollback': {
        post: {
          summary: 'move an alias back to where it pointed before its last move',
          operationId: 'rollback',
          security: bearer,
          parameters: [nameParameter],
          requestBody: body('RollbackRequest', 'the alias and why'),
          responses: { '200': loose('moved: from and to'), ...badBody, ...refused, '404': error('nothing to roll back to') },
        },
      },
      '/healthz': { get: { summary: 'liveness', operationId: 'healthz', responses: { '200': loose('the process answers') } } },
      '/readyz': {
        get: {
          summary: "readiness: every production alias served at its version; each policy's state",
          operationId: 'readyz',
          responses: { '200': json('Readiness', 'ready'), '503': json('Readiness', 'not ready: which policy, and why') },
        },
      },
      '/metrics': { get: { summary: 'Prometheus metrics', operationId: 'metrics', responses: { '200': { description: 'the text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
      '/openapi.json': { get: { summary: 'this document', operationId: 'openapi', responses: { '200': loose('OpenAPI 3.1') } } },
    },
  };
  return cached;
}
