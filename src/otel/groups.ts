import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { keyValues } from './encode';

/** One resource + instrumentation scope pair, as the OTLP/JSON text that opens its `scopeSpans`. */
interface Group {
  /** Index of its resource among the registered resources (spans of one resource share a `resourceSpans`). */
  resource: number;
  /** The resource as OTLP/JSON (`{"attributes":[…]}`). */
  resourceJson: string;
  /** The scope as OTLP/JSON (`{"name":…,"version":…}`). */
  scopeJson: string;
  /** The scope's schema URL as a JSON string, or ''. */
  schemaUrl: string;
}

/** Group 0: lines without a group (none are written today) travel under a plain Outbox scope. */
const FALLBACK: Group = { resource: 0, resourceJson: '{"attributes":[]}', scopeJson: '{"name":"outbox"}', schemaUrl: '' };

/**
 * The resources and instrumentation scopes spans were made under. Outbox's OTLP wire puts one resource and one
 * scope around a whole batch; Langfuse reads both per span (the scope name decides whether attributes are also
 * copied into metadata; `service.name` comes from the resource), so each record line names its group and the
 * wire nests spans under their own. Groups are keyed by object identity (a tracer provider has one resource, a
 * tracer one scope) and by content, so their number is the number of distinct pairs; it is capped, and past the
 * cap a span travels under the last group registered rather than growing the table.
 */
export interface SpanGroups {
  /** The group index of a span, registering its resource and scope on first sight. */
  indexOf(span: ReadableSpan): number;
  get(index: number): Group;
  /** Bytes of every registered group's JSON: an upper bound of what nesting adds to a batch. */
  readonly headerBytes: number;
}

/** Most distinct resource + scope pairs kept. */
export const MAX_GROUPS = 256;

export function createSpanGroups(): SpanGroups {
  const groups: Group[] = [FALLBACK];
  const byContent = new Map<string, number>();
  const resources = new Map<string, number>();
  const byIdentity = new WeakMap<object, WeakMap<object, number>>();
  let headerBytes = FALLBACK.resourceJson.length + FALLBACK.scopeJson.length;

  function register(span: ReadableSpan): number {
    const resource = span.resource;
    const scope = span.instrumentationScope;
    const resourceJson = JSON.stringify(resource.schemaUrl ? { attributes: keyValues(resource.attributes), schemaUrl: resource.schemaUrl } : { attributes: keyValues(resource.attributes) });
    const scopeObject: Record<string, unknown> = { name: scope.name };
    if (scope.version !== undefined) scopeObject.version = scope.version;
    const scopeAttributes = (scope as { attributes?: Record<string, unknown> }).attributes;
    if (scopeAttributes && Object.keys(scopeAttributes).length > 0) scopeObject.attributes = keyValues(scopeAttributes);
    const scopeJson = JSON.stringify(scopeObject);
    const schemaUrl = scope.schemaUrl ? JSON.stringify(scope.schemaUrl) : '';
    const key = resourceJson + '\n' + scopeJson + '\n' + schemaUrl;
    const known = byContent.get(key);
    if (known !== undefined) return known;
    if (groups.length >= MAX_GROUPS) return groups.length - 1;
    let resourceIndex = resources.get(resourceJson);
    if (resourceIndex === undefined) resources.set(resourceJson, (resourceIndex = resources.size + 1));
    groups.push({ resource: resourceIndex, resourceJson, scopeJson, schemaUrl });
    headerBytes += resourceJson.length + scopeJson.length + schemaUrl.length + 64;
    byContent.set(key, groups.length - 1);
    return groups.length - 1;
  }

  return {
    indexOf(span) {
      const resource = span.resource as object;
      const scope = span.instrumentationScope as object;
      let scopes = byIdentity.get(resource);
      const known = scopes?.get(scope);
      if (known !== undefined) return known;
      const index = register(span);
      // A resource whose async attributes are still pending may change: look it up by content next time.
      if (!(span.resource as { asyncAttributesPending?: boolean }).asyncAttributesPending) {
        if (!scopes) byIdentity.set(resource, (scopes = new WeakMap()));
        scopes.set(scope, index);
      }
      return index;
    },
    get: (index) => groups[index] ?? FALLBACK,
    get headerBytes() {
      return headerBytes;
    },
  };
}
