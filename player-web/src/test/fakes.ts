// Test doubles of the browser's network: a fetch that answers from a route table (the
// real server is exercised end to end in e2e/), and a WebSocket the test drives.
import { vi } from "vitest";

export interface Call {
  method: string;
  path: string;
  body: unknown;
}

type Reply = { status?: number; body?: unknown; headers?: Record<string, string> };
type Route = (call: Call) => Reply | Promise<Reply>;

export function fakeFetch(routes: Record<string, Route>) {
  const calls: Call[] = [];
  const fetchImpl = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), "http://localhost");
    const call: Call = {
      method: init.method ?? "GET",
      path: url.pathname + url.search,
      body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
    };
    calls.push(call);
    const route = routes[`${call.method} ${url.pathname}`] ?? routes[`${call.method} ${call.path}`];
    if (!route) return new Response(JSON.stringify({ error: "no such route" }), { status: 404 });
    const reply = await route(call);
    const status = reply.status ?? 200;
    const body = status === 204 || status === 202 ? null : JSON.stringify(reply.body ?? {});
    return new Response(body, { status, headers: { "Content-Type": "application/json", ...reply.headers } });
  });
  vi.stubGlobal("fetch", fetchImpl);
  return { calls, fetchImpl };
}

export class FakeWebSocket {
  static instances: FakeWebSocket[] = [];
  readyState = 0;
  sent: unknown[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;

  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this);
  }

  static reset(): void {
    FakeWebSocket.instances = [];
  }

  static last(): FakeWebSocket {
    const socket = FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
    if (!socket) throw new Error("no socket was opened");
    return socket;
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.();
  }

  receive(...messages: unknown[]): void {
    this.onmessage?.({ data: JSON.stringify(messages.length === 1 ? messages[0] : messages) });
  }

  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code });
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }

  close(): void {
    this.readyState = 3;
  }
}

export const asWebSocket = FakeWebSocket as unknown as typeof WebSocket;
