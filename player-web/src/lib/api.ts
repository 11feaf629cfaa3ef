// The HTTP API, as fetch calls: JSON in and out, errors as ApiError with the server's words.
import { env } from "./env";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    readonly fields?: Record<string, string>,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  signal?: AbortSignal;
  /** On 401, try once to refresh the session and repeat (when there is a session). */
  refresh?: boolean;
}

/** Set by the server beside its HttpOnly sign-in cookies, as long-lived as the refresh
 * token; it holds no secret. Without it there is no session to ask about or refresh, so the
 * app asks nothing (and the console shows no 401 before anyone signed in). */
export const SESSION_HINT_COOKIE = "mediad_session";

export function hasSession(): boolean {
  return typeof document !== "undefined" && document.cookie.split(/;\s*/).some((item) => item.startsWith(`${SESSION_HINT_COOKIE}=`));
}

let refreshing: Promise<boolean> | null = null;

/** Trade the refresh cookie for a new access cookie; one refresh at a time. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= fetch(`${env.apiBase}/api/auth/refresh`, {
    method: "POST",
    credentials: "include",
  })
    .then((response) => response.ok)
    .catch(() => false)
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

async function toError(response: Response): Promise<ApiError> {
  let body: Record<string, unknown> = {};
  try {
    body = (await response.json()) as Record<string, unknown>;
  } catch {
    // not JSON: a proxy's error page; the status says enough
  }
  const retryAfter = Number(response.headers.get("Retry-After"));
  const retryAfterMs =
    typeof body.retryAfterMs === "number"
      ? body.retryAfterMs
      : Number.isFinite(retryAfter) && retryAfter > 0
        ? retryAfter * 1000
        : undefined;
  return new ApiError(
    response.status,
    typeof body.error === "string" ? body.error : `${response.status} ${response.statusText}`,
    typeof body.code === "string" ? body.code : undefined,
    (body.fields as Record<string, string> | undefined) ?? undefined,
    retryAfterMs,
  );
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const { method = "GET", body, signal, refresh = true } = options;
  const send = () =>
    fetch(`${env.apiBase}${path}`, {
      method,
      signal,
      credentials: "include",
      headers: body === undefined ? undefined : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  let response = await send();
  if (response.status === 401 && refresh && !path.startsWith("/api/auth/") && hasSession()) {
    if (!(await refreshSession())) {
      // A session that cannot be renewed (a stale cookie, a changed server secret) would
      // refuse even what guests may do: drop its cookies and ask again as a guest.
      await fetch(`${env.apiBase}/api/auth/logout`, { method: "POST", credentials: "include" }).catch(() => undefined);
    }
    response = await send();
  }
  if (!response.ok) throw await toError(response);
  if (response.status === 204 || response.status === 202) return undefined as T;
  return (await response.json()) as T;
}

/** What to tell the user about a failure: the server's words when it gave some. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
