/**
 * The rule file format (`schema: 1`, rules/README.md), stated once: every map's keys in order,
 * which are required, what each means and what values it takes. The validator (parse-file.ts)
 * takes its key lists and patterns from here; ruleFileJsonSchema() turns the same statements into
 * a JSON Schema (draft-07) for editors, committed as rules/rule-file.schema.json
 * (`npm run schema` writes it; a test checks it is current). The validator still checks more
 * than JSON Schema can say (ranges that overlap, an erratum naming a rule of its file, ids unique
 * across files) and words every problem as `file:line:col: rule <id>: <problem>`.
 */
import { PROTOCOL_TAGS } from './protocol-tags.js';
import { EXPOSURES, TLS_PROMISES, TRANSPORTS } from './types.js';

/** `<product>.<slug>`: lowercase letters, digits and dashes, one dot. */
export const ID_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*\.[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** A product key: lowercase letters, digits and dashes. */
export const PRODUCT_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** A port range string, "lo-hi". */
export const RANGE_RE = /^\s*(\d+)\s*-\s*(\d+)\s*$/;

type JsonSchema = Record<string, unknown>;

export interface FieldSpec {
  /** Required in every map of its kind (a rule's `ports`: see RULE_FIELDS). */
  readonly required: boolean;
  readonly description: string;
  /** The JSON Schema of the value. */
  readonly schema: JsonSchema;
}

const nonEmptyString: JsonSchema = { type: 'string', minLength: 1, pattern: '\\S' };
const port: JsonSchema = {
  oneOf: [
    { type: 'integer', minimum: 1, maximum: 65535 },
    { type: 'string', pattern: '^\\s*\\d+\\s*(-\\s*\\d+\\s*)?$', description: 'a port ("8080") or an inclusive range "lo-hi" within 1-65535' },
  ],
};
const cite: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['text'],
  properties: {
    line: { type: 'integer', minimum: 1, description: '1-based line number in the source document' },
    text: { ...nonEmptyString, description: 'the source row (shipped rules quote it verbatim)' },
  },
};
const citeOrCites: JsonSchema = { oneOf: [cite, { type: 'array', minItems: 1, items: cite }] };
const ruleId: JsonSchema = { type: 'string', pattern: ID_RE.source };

export const SOURCE_FIELDS = {
  doc: { required: true, description: 'file name of the source document (shipped: a file in shared/seeds; user files: any reference)', schema: nonEmptyString },
  product: { required: true, description: 'the product as the document names it', schema: nonEmptyString },
  title: { required: true, description: 'title of the document', schema: nonEmptyString },
} as const satisfies Record<string, FieldSpec>;

export const CITE_FIELDS = {
  line: { required: false, description: '1-based line number in the source document', schema: { type: 'integer', minimum: 1 } },
  text: { required: true, description: 'the source row', schema: nonEmptyString },
} as const satisfies Record<string, FieldSpec>;

/** A rule's keys, in the order messages list them. `ports` is required except for icmp rules. */
export const RULE_FIELDS = {
  id: { required: true, description: '<product>.<slug>, lowercase, digits and dashes, one dot; starts with the rule\'s product key; unique across every loaded file', schema: ruleId },
  product: { required: true, description: 'product key (--products filters on it)', schema: { type: 'string', pattern: PRODUCT_RE.source } },
  component: { required: true, description: 'pod, service or component name as the document writes it', schema: nonEmptyString },
  transport: { required: true, description: 'icmp covers ICMP and ICMPv6 and has no ports', schema: { enum: [...TRANSPORTS] } },
  ports: { required: false, description: 'port numbers and "lo-hi" range strings, 1-65535, no duplicates or overlaps; required except for icmp rules, which have none', schema: { type: 'array', items: port } },
  purpose: { required: true, description: 'what the document says the port is for', schema: nonEmptyString },
  exposure: { required: true, description: 'who the document expects to connect (rules/README.md#exposure)', schema: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...EXPOSURES] } } },
  exposure_inferred: { required: false, description: 'true when the document does not state the exposure and the author inferred it', schema: { type: 'boolean' } },
  config_key: { required: false, description: 'configuration keys the document gives (YAML key, Helm value, env var)', schema: { oneOf: [nonEmptyString, { type: 'array', items: nonEmptyString }] } },
  protocols: { required: true, description: 'protocol tags the document names or plainly implies; [] when none', schema: { type: 'array', uniqueItems: true, items: { enum: Object.keys(PROTOCOL_TAGS) } } },
  tls: { required: true, description: 'whether the document promises TLS (rules/README.md#tls)', schema: { enum: [...TLS_PROMISES] } },
  cite: { required: true, description: '{line, text} or a list of them: the source row(s)', schema: citeOrCites },
  notes: { required: false, description: 'caveats: Service-port mapping, overlaps, inferences', schema: nonEmptyString },
  override: { required: false, description: 'id of a rule from an earlier directory that this rule replaces', schema: ruleId },
} as const satisfies Record<string, FieldSpec>;

export const ERRATUM_FIELDS = {
  id: { required: true, description: '<product>.<slug>, unique across loaded files', schema: ruleId },
  doc_says: { required: true, description: 'what the document says', schema: nonEmptyString },
  we_did: { required: true, description: 'what the rules do instead (or that nothing was needed)', schema: nonEmptyString },
  why: { required: true, description: 'the reasoning', schema: nonEmptyString },
  cite: { required: true, description: 'as for rules', schema: citeOrCites },
  ports: { required: false, description: 'ports the erratum is about (informational)', schema: { type: 'array', items: port } },
  excluded_ports: { required: false, description: 'ports or ranges the document mentions that deliberately have no rule', schema: { type: 'array', items: port } },
  rules: { required: false, description: 'ids of rules in the same file the erratum affects', schema: { type: 'array', items: ruleId } },
} as const satisfies Record<string, FieldSpec>;

export const FILE_FIELDS = {
  schema: { required: true, description: 'the format version; the loader reads schema 1 only', schema: { const: 1 } },
  source: { required: true, description: 'the document this file transcribes', schema: { $ref: '#/definitions/source' } },
  rules: { required: true, description: 'the rules (may be empty)', schema: { type: 'array', items: { $ref: '#/definitions/rule' } } },
  errata: { required: false, description: 'known mistakes in the source, and what the rules do about them', schema: { oneOf: [{ type: 'array', items: { $ref: '#/definitions/erratum' } }, { type: 'null' }] } },
} as const satisfies Record<string, FieldSpec>;

export const FILE_KEYS = Object.keys(FILE_FIELDS);
export const SOURCE_KEYS = Object.keys(SOURCE_FIELDS);
export const RULE_KEYS = Object.keys(RULE_FIELDS);
export const ERRATUM_KEYS = Object.keys(ERRATUM_FIELDS);
export const CITE_KEYS = Object.keys(CITE_FIELDS);

/** A closed object of `fields`; `patch` replaces some properties' schemas, `alsoRequired` adds keys. */
function objectSchema(fields: Record<string, FieldSpec>, description: string, patch: Record<string, JsonSchema> = {}, alsoRequired: string[] = []): JsonSchema {
  return {
    type: 'object',
    description,
    additionalProperties: false,
    required: [...Object.entries(fields).filter(([, f]) => f.required).map(([k]) => k), ...alsoRequired],
    properties: Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, { ...(patch[k] ?? f.schema), description: f.description }])),
  };
}

/** JSON Schema (draft-07) of a rule file, for editors (yaml-language-server and others). */
export function ruleFileJsonSchema(): JsonSchema {
  // Two shapes of rule, whole (some validators read anyOf only between complete schemas): icmp
  // rules have no ports and only the icmp tag; every other transport lists at least one port.
  const icmpRule = objectSchema(RULE_FIELDS, 'an icmp rule: ICMP and ICMPv6, no ports', {
    transport: { const: 'icmp' },
    ports: { type: 'array', items: port, maxItems: 0 },
    protocols: { type: 'array', items: { const: 'icmp' } },
  });
  const portRule = objectSchema(RULE_FIELDS, 'a rule for documented ports', {
    transport: { enum: TRANSPORTS.filter((t) => t !== 'icmp') },
    ports: { type: 'array', items: port, minItems: 1 },
  }, ['ports']);
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'portsniff rule file (schema: 1)',
    ...objectSchema(FILE_FIELDS, 'One vendor port reference transcribed as rules; see rules/README.md. `portsniff rules check` validates more than this schema can say.'),
    definitions: {
      source: objectSchema(SOURCE_FIELDS, 'the document this file transcribes'),
      rule: { description: 'one documented port (or ICMP) of one component', anyOf: [portRule, icmpRule] },
      erratum: objectSchema(ERRATUM_FIELDS, 'a known mistake or oddity in the source document'),
    },
  };
}
