import { utf8Length } from '../core/encode';
import type { QueuedEvent, StoredEvent, Wire } from '../core/types';
import { createOtlpWire, type OtlpWireConfig } from '../wire/otlp';
import type { SpanGroups } from './groups';

const PREFIX = '{"resourceSpans":[';
const SUFFIX = ']}';

/**
 * The OTLP wire for OpenTelemetry spans: Outbox's OTLP wire (headers, answers: 2xx / Retry-After / 400 bisection
 * / 413 split) with one change — each span travels under its own resource and instrumentation scope instead of
 * one pair for the batch. A record's line is `<group index>\n<span JSON>`: `groupOf(body)` names the group when
 * the record is sealed, and the batch is written as one `resourceSpans` per resource and one `scopeSpans` per
 * scope, spans in record order within each.
 */
export function createOtelWire(config: Omit<OtlpWireConfig, 'resource'>, groups: SpanGroups, groupOf: (body: unknown) => number | undefined): Wire {
  const base = createOtlpWire({ ...config, resource: { sdkVersion: '' } });

  function encodeBatch(_batchId: string, records: StoredEvent[]): string {
    // resource index → (group index → span lines), both in first-seen order.
    const byResource = new Map<number, Map<number, string[]>>();
    for (const record of records) {
      const line = record.line;
      const cut = line.indexOf('\n');
      const index = cut > 0 ? Number(line.slice(0, cut)) : 0;
      const group = groups.get(index);
      let scopes = byResource.get(group.resource);
      if (!scopes) byResource.set(group.resource, (scopes = new Map()));
      const spans = scopes.get(index);
      const span = cut > 0 ? line.slice(cut + 1) : line;
      if (spans) spans.push(span);
      else scopes.set(index, [span]);
    }
    let body = PREFIX;
    let firstResource = true;
    for (const scopes of byResource.values()) {
      let part = '';
      let resourceJson = '';
      for (const [index, spans] of scopes) {
        const group = groups.get(index);
        resourceJson = group.resourceJson;
        part += (part === '' ? '' : ',') + '{"scope":' + group.scopeJson + ',"spans":[' + spans.join(',') + ']' + (group.schemaUrl ? ',"schemaUrl":' + group.schemaUrl : '') + '}';
      }
      body += (firstResource ? '' : ',') + '{"resource":' + resourceJson + ',"scopeSpans":[' + part + ']}';
      firstResource = false;
    }
    return body + SUFFIX;
  }

  return {
    name: 'otlp',
    url: base.url,
    headers: base.headers,
    gzip: base.gzip,
    // Read at every cut: grows as groups are registered, so it bounds any batch's envelope.
    get envelopeBytes() {
      return utf8Length(PREFIX + SUFFIX) + groups.headerBytes;
    },
    encodeRecord(record: QueuedEvent): string | undefined {
      if (record.body === undefined) return undefined;
      const span = JSON.stringify(record.body);
      if (span === undefined) return undefined;
      return (groupOf(record.body) ?? 0) + '\n' + span;
    },
    encodeBatch,
    answer: base.answer,
  };
}
