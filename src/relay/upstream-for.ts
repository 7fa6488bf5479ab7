import type { UpstreamOptions } from './options';
import { upstreamFromEnv } from './options';

/**
 * The upstream of a request: the `upstream` option (trailing slashes trimmed), else the one in this env (read once
 * per env object), else the one in `process.env`; an Error names what is bad, undefined means none is set.
 */
export function createUpstreamFor(upstream: UpstreamOptions | undefined): (env: unknown) => UpstreamOptions | Error | undefined {
  const processEnv = (globalThis as { process?: { env?: unknown } }).process?.env;
  const fixed = upstream ? { ...upstream, baseUrl: upstream.baseUrl.replace(/\/+$/, '') } : undefined;
  const fromEnv = new WeakMap<object, UpstreamOptions | Error | undefined>();
  return (env) => {
    if (fixed) return fixed;
    if (env && typeof env === 'object') {
      if (!fromEnv.has(env)) fromEnv.set(env, upstreamFromEnv(env));
      const found = fromEnv.get(env);
      if (found !== undefined) return found;
    }
    return upstreamFromEnv(processEnv);
  };
}
