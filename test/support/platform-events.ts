// Events as OpenAI and Anthropic send them (Standard Webhooks, signed by the standardwebhooks
// package), checked by the platforms' own SDKs before a test uses them, and a stand-in for the
// platforms' APIs on 127.0.0.1 that answers the reads callback in makes.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";

export type Platform = "openai" | "anthropic";

/** A fresh whsec_ signing secret, as the platforms' consoles show one. */
export function signingSecret(): string {
  return "whsec_" + randomBytes(32).toString("base64");
}

let counter = 0;
const nextId = (prefix: string): string => `${prefix}_${Date.now().toString(36)}${(counter++).toString(36)}`;

/** An event of `type` about `dataId`, in the platform's own shape. */
export function platformEvent(platform: Platform, type: string, dataId: string): Record<string, unknown> {
  if (platform === "openai") {
    return { id: nextId("evt"), object: "event", created_at: Math.floor(Date.now() / 1000), type, data: { id: dataId } };
  }
  return {
    type: "event",
    id: nextId("wevt"),
    created_at: new Date().toISOString(),
    data: { type, id: dataId, organization_id: "org_test", workspace_id: "wrkspc_test" },
  };
}

export interface Signed {
  body: string;
  headers: Record<string, string>;
}

/** The body and headers as the platform sends them; `webhookId` repeats a delivery. */
export function sign(secret: string, event: unknown, options: { webhookId?: string; at?: Date } = {}): Signed {
  const body = JSON.stringify(event);
  const id = options.webhookId ?? nextId("msg");
  const at = options.at ?? new Date();
  return {
    body,
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": new Webhook(secret).sign(id, at, body),
    },
  };
}

/** Throws unless the platform's SDK accepts the signed event (so a pass means real events pass). */
export async function assertSdkAccepts(platform: Platform, secret: string, signed: Signed): Promise<unknown> {
  if (platform === "openai") {
    return new OpenAI({ apiKey: "unused", webhookSecret: secret }).webhooks.unwrap(signed.body, signed.headers);
  }
  return new Anthropic({ apiKey: "unused" }).beta.webhooks.unwrap(signed.body, { headers: signed.headers, key: secret });
}

/** A completed background response as GET /v1/responses/{id} returns it. */
export function openAiResponse(id: string, text: readonly string[] = ["The report: ", "all green."]): Record<string, unknown> {
  return {
    id,
    object: "response",
    created_at: 1765000000,
    completed_at: 1765000042,
    status: "completed",
    model: "gpt-5-mini",
    error: null,
    incomplete_details: null,
    output: [
      { id: "rs_1", type: "reasoning", summary: [] },
      {
        id: "msg_1",
        type: "message",
        role: "assistant",
        status: "completed",
        content: text.map((t) => ({ type: "output_text", text: t, annotations: [] })),
      },
    ],
    usage: { input_tokens: 100, output_tokens: 23, total_tokens: 123 },
  };
}

/** A session as GET /v1/sessions/{id} returns it (fields callback in reads, and some it does not). */
export function anthropicSession(id: string): Record<string, unknown> {
  return {
    id,
    type: "session",
    status: "idle",
    title: "Weekly digest",
    created_at: "2026-12-06T10:00:00Z",
    updated_at: "2026-12-06T10:03:20Z",
    archived_at: null,
    environment_id: "env_1",
    metadata: {},
    agent: { id: "agent_digest", name: "Digest writer", type: "agent", version: 1, model: { id: "claude-sonnet-4-5" } },
    stats: { active_seconds: 150, duration_seconds: 200 },
    usage: { input_tokens: 900, output_tokens: 100 },
    resources: [],
    vault_ids: [],
    outcome_evaluations: [],
    budget: null,
  };
}

/** A page of session events, newest first, as GET /v1/sessions/{id}/events?order=desc returns it. */
export function anthropicEvents(lastText: string): Record<string, unknown> {
  return {
    data: [
      { id: "sevt_3", type: "session.status_idle", processed_at: "2026-12-06T10:03:20Z" },
      { id: "sevt_2", type: "agent.message", processed_at: "2026-12-06T10:03:19Z", content: [{ type: "text", text: lastText }] },
      { id: "sevt_1", type: "agent.message", processed_at: "2026-12-06T10:01:00Z", content: [{ type: "text", text: "Working on it." }] },
    ],
    next_page: null,
  };
}

export interface ApiRequest {
  path: string;
  headers: IncomingHttpHeaders;
}

/** The platform's API on 127.0.0.1: GET paths answered from `routes` (404 otherwise), every request kept. */
export class PlatformApi {
  readonly requests: ApiRequest[] = [];
  readonly routes = new Map<string, unknown>();
  private server: Server | undefined;
  port = 0;

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.requests.push({ path: req.url ?? "/", headers: req.headers });
      const found = this.routes.get(req.url ?? "/");
      res.writeHead(found === undefined ? 404 : 200, { "content-type": "application/json" });
      res.end(JSON.stringify(found ?? { error: { message: "not found" } }));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
