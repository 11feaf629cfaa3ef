// Typed configuration of the web app, read once from the build's environment:
// VITE_* (Vite's own) or NEXT_PUBLIC_* (for deployments that already name them so).
// Every value has a fallback; a value that is set but wrong fails loudly, naming it.

export interface Env {
  /** Origin of the mediad API ("" = the page's own origin, the usual case). */
  apiBase: string;
  /** Origin the media (LL-HLS) comes from, for <link rel=preconnect>; "" = apiBase. */
  mediaOrigin: string;
  /** How long an age-gate consent is remembered, in days. */
  ageGateTtlDays: number;
  /** Polling interval of the chat's HTTP fallback, in ms (the server may say otherwise). */
  pollIntervalMs: number;
  /** How far behind the live edge (s) the player offers "Go live". */
  liveEdgeThresholdSec: number;
  /** Whether the player reports join time and latency to the metrics endpoint. */
  metrics: boolean;
}

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join("; ")}`);
    this.name = "EnvError";
  }
}

type Source = Record<string, string | boolean | undefined>;

function lookup(source: Source, name: string): string | undefined {
  for (const key of [`VITE_${name}`, `NEXT_PUBLIC_${name}`]) {
    const value = source[key];
    if (typeof value === "string" && value.trim() !== "") return value.trim();
  }
  return undefined;
}

export function readEnv(source: Source): Env {
  const problems: string[] = [];

  const origin = (name: string, fallback: string): string => {
    const raw = lookup(source, name);
    if (raw === undefined) return fallback;
    try {
      const url = new URL(raw);
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error();
      return url.origin;
    } catch {
      problems.push(`${name} must be an http(s) URL, got ${JSON.stringify(raw)}`);
      return fallback;
    }
  };

  const integer = (name: string, fallback: number, low: number, high: number): number => {
    const raw = lookup(source, name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw) || value < low || value > high) {
      problems.push(`${name} must be an integer from ${low} to ${high}, got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return value;
  };

  const flag = (name: string, fallback: boolean): boolean => {
    const raw = lookup(source, name);
    if (raw === undefined) return fallback;
    const lowered = raw.toLowerCase();
    if (["1", "true", "yes", "on"].includes(lowered)) return true;
    if (["0", "false", "no", "off"].includes(lowered)) return false;
    problems.push(`${name} must be true or false, got ${JSON.stringify(raw)}`);
    return fallback;
  };

  const apiBase = origin("API_BASE", "");
  const env: Env = {
    apiBase,
    mediaOrigin: origin("MEDIA_ORIGIN", apiBase),
    ageGateTtlDays: integer("AGE_GATE_TTL_DAYS", 30, 1, 3650),
    pollIntervalMs: integer("POLL_INTERVAL_MS", 4000, 500, 60000),
    liveEdgeThresholdSec: integer("LIVE_EDGE_THRESHOLD_SEC", 5, 1, 600),
    metrics: flag("METRICS", true),
  };
  if (problems.length) throw new EnvError(problems);
  return env;
}

export const env: Env = readEnv(import.meta.env as unknown as Source);
