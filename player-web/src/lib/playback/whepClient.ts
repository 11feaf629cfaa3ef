// WHEP (RFC 9725 semantics) from the viewer's side: one POST of a complete SDP offer, the
// answer and the session's Location back, a DELETE to end it. mediad does not take trickled
// candidates (a PATCH gets 405), so the offer waits for ICE gathering first, within a bound.

/** How long the offer waits for ICE gathering before it goes with the candidates it has. */
export const ICE_GATHERING_MS = 2000;

/** A WHEP request the server refused (or that never reached it: `status` 0). */
export class WhepError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "WhepError";
  }
}

export interface WhepAnswer {
  /** The SDP answer, its ICE candidates included. */
  sdp: string;
  /** The session's absolute URL (its DELETE ends it). */
  location: string;
  /** STUN/TURN servers from the `Link: <...>; rel="ice-server"` headers. */
  iceServers: RTCIceServer[];
}

/** What the viewer is told for a refusal, by status; the server's own words follow it. */
const REFUSALS: Record<number, string> = {
  404: "The stream is not live.",
  409: "The stream has no picture a browser can play in real time yet.",
  429: "Too many real-time sessions from this address.",
  503: "The server has no room for another real-time viewer.",
};

/** `text` split at each `separator` that is neither inside `<...>` nor inside quotes: the
 * commas between links (a `Headers.get` joins several headers with ", "), the semicolons
 * between a link's parameters. */
function splitOutside(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = "";
  let inUri = false;
  let inQuote = false;
  for (const char of text) {
    if (char === "<" && !inQuote) inUri = true;
    else if (char === ">" && !inQuote) inUri = false;
    else if (char === '"' && !inUri) inQuote = !inQuote;
    if (char === separator && !inUri && !inQuote) {
      parts.push(current);
      current = "";
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts.map((part) => part.trim()).filter(Boolean);
}

/** One link's parameters, names lowercased, quotes removed. */
function linkParams(parts: string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const part of parts) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    const raw = part.slice(eq + 1).trim();
    params[name] = raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2 ? raw.slice(1, -1) : raw;
  }
  return params;
}

/** The ICE servers a WHEP or WHIP response offers in its `Link` headers (RFC 9725 §4.6). */
export function parseIceServers(header: string | null): RTCIceServer[] {
  if (!header) return [];
  const servers: RTCIceServer[] = [];
  for (const link of splitOutside(header, ",")) {
    const match = /^<([^>]*)>(.*)$/.exec(link);
    if (!match) continue;
    const [, url = "", rest = ""] = match;
    const params = linkParams(splitOutside(rest, ";"));
    const rels = (params.rel ?? "").toLowerCase().split(/\s+/);
    if (!rels.includes("ice-server") || !/^(stun|stuns|turn|turns):/i.test(url)) continue;
    const server: RTCIceServer = { urls: url };
    if (params.username !== undefined) server.username = params.username;
    if (params.credential !== undefined) server.credential = params.credential;
    servers.push(server);
  }
  return servers;
}

/** Resolves once `pc` has gathered its candidates, or after `timeoutMs` (or at once if
 * `signal` aborts): the offer then carries what was gathered so far. */
export function iceGathered(pc: RTCPeerConnection, timeoutMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === "complete" || signal.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", onChange);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const onChange = () => {
      if (pc.iceGatheringState === "complete") done();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener("icegatheringstatechange", onChange);
    signal.addEventListener("abort", done);
  });
}

/** The viewer's words for a refusal: what the status means, then why, as the server put it. */
async function refusal(response: Response): Promise<WhepError> {
  let reason = "";
  try {
    const body: unknown = await response.json();
    if (body && typeof body === "object" && "error" in body && typeof body.error === "string") reason = body.error;
  } catch {
    // not JSON: the status says enough
  }
  const meaning = REFUSALS[response.status] ?? `The server refused real-time playback (${response.status}).`;
  return new WhepError(response.status, reason ? `${meaning} (${reason})` : meaning);
}

/** POSTs `offer` to the WHEP endpoint `url`; the answer, or a WhepError. */
export async function postOffer(url: string, offer: string, signal: AbortSignal): Promise<WhepAnswer> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/sdp", Accept: "application/sdp" },
      body: offer,
      signal,
    });
  } catch (caught) {
    if (signal.aborted) throw caught;
    throw new WhepError(0, "The real-time server could not be reached.");
  }
  if (response.status !== 201 && response.status !== 200) throw await refusal(response);
  const location = response.headers.get("Location");
  if (!location) throw new WhepError(response.status, "The real-time server named no session.");
  return {
    sdp: await response.text(),
    location: new URL(location, new URL(url, window.location.href)).href,
    iceServers: parseIceServers(response.headers.get("Link")),
  };
}

/** Ends a session; settles once the server answered (or could not be asked). `keepalive`
 * lets the request outlive the page (unload, page hide); a failure is not the viewer's
 * concern (the server times the session out anyway). */
export function deleteSession(location: string): Promise<void> {
  try {
    return fetch(location, { method: "DELETE", keepalive: true }).then(
      () => undefined,
      () => undefined,
    );
  } catch {
    // fetch itself threw (a page being torn down): the server's ICE timeout ends it
    return Promise.resolve();
  }
}
