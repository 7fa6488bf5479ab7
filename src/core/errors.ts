/** Thrown by createOutbox() for invalid options: the only error Outbox ever throws. */
export class OutboxOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutboxOptionsError';
  }
}

/** `Name: message` of anything thrown or rejected with; never throws itself. */
export function errorText(error: unknown): string {
  try {
    return error instanceof Error ? `${error.name}: ${error.message}` : safeString(error);
  } catch {
    return 'unprintable error';
  }
}

/** String(value) that cannot throw: hosts pass anything (Object.create(null), a throwing toString, a Proxy). */
export function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '[unprintable]';
  }
}

/** Calls a host callback; what it throws is swallowed (a host callback must not break the client). */
export function callHost<A>(fn: ((arg: A) => void) | undefined, arg: A): void {
  if (!fn) return;
  try {
    fn(arg);
  } catch {
    /* swallowed on purpose */
  }
}

/** A short rendering of a bad value for an error message (at most 60 characters of JSON). */
export function describeValue(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol') return value.toString();
  try {
    const json = JSON.stringify(value);
    if (json === undefined) return String(value);
    return json.length > 60 ? json.slice(0, 57) + '...' : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}
