// Anthropic as a sender: Managed Agents webhooks (https://platform.claude.com/docs/en/managed-agents/webhooks),
// {type: "event", id, created_at, data: {type, id, ...}}, routed by `data.type`. A session's result
// is read back with the Sessions API (beta "managed-agents-2026-04-01", as @anthropic-ai/sdk's
// beta.sessions.retrieve and beta.sessions.events.list send it): GET {apiBase}/sessions/{id} for
// the agent, model, usage and timing, and GET {apiBase}/sessions/{id}/events?order=desc for the
// agent's last message. Deployment runs are routed, not read back.
import type { Completion, ReceivedPayload, Reading, Source } from "./source";
import { isFields, isoTime, readPlatformEvent, textOf, type Fields, type RoutingTable } from "./platform-event";
import { fetchJson } from "./fetch-json";
import type { PlatformFetch } from "./openai";

export const ANTHROPIC_API_BASE = "https://api.anthropic.com/v1";
const API_VERSION = "2023-06-01";
const BETA = "managed-agents-2026-04-01";
/** The agent's last message is among the session's latest events; older ones are not read. */
const EVENTS_READ = 50;

export const ANTHROPIC_ROUTES: RoutingTable = {
  completed: ["session.status_idled", "deployment_run.succeeded"],
  failed: ["session.status_terminated", "deployment_run.failed"],
  timeout: ["session.budget_reached"],
};

/** An Anthropic event's type is its data's. */
export const anthropicEventType = (event: Fields): string => (isFields(event.data) ? (textOf(event.data.type) ?? "") : "");

/** The text of the newest agent.message event of a page listed newest first, or null. */
export function lastAgentMessage(page: unknown): string | null {
  const events = isFields(page) && Array.isArray(page.data) ? (page.data as unknown[]) : [];
  for (const event of events) {
    if (!isFields(event) || event.type !== "agent.message" || !Array.isArray(event.content)) continue;
    const texts = (event.content as unknown[]).filter(isFields).map((block) => (block.type === "text" ? textOf(block.text) : undefined));
    return texts.filter((text): text is string => text !== undefined).join("");
  }
  return null;
}

function count(value: unknown): number {
  return Number.isSafeInteger(value) && (value as number) >= 0 ? (value as number) : 0;
}

/** The payload with what a session object and its last agent message say. */
export function withSession(payload: ReceivedPayload, session: Fields, output: string | null): ReceivedPayload {
  const agent = isFields(session.agent) ? session.agent : {};
  const model = isFields(agent.model) ? textOf(agent.model.id) : textOf(agent.model);
  const usage = isFields(session.usage) ? session.usage : {};
  const stats = isFields(session.stats) ? session.stats : {};
  const tokens = count(usage.input_tokens) + count(usage.output_tokens);
  return {
    ...payload,
    agent_loop_id: textOf(agent.id) ?? null,
    agent_loop_name: textOf(agent.name) ?? textOf(session.title) ?? null,
    result: { output },
    metadata: {
      started_at: isoTime(session.created_at),
      completed_at: isoTime(session.updated_at) ?? payload.metadata?.completed_at ?? null,
      duration_seconds: typeof stats.duration_seconds === "number" && stats.duration_seconds >= 0 ? stats.duration_seconds : null,
      model: model ?? null,
      tokens_used: isFields(session.usage) ? tokens : null,
    },
  };
}

async function readSession(fetch: PlatformFetch, reading: Reading): Promise<Completion> {
  const headers = { "x-api-key": fetch.apiKey, "anthropic-version": API_VERSION, "anthropic-beta": BETA, accept: "application/json" };
  const url = `${fetch.apiBase}/sessions/${encodeURIComponent(reading.payload.execution_id)}`;
  const session = await fetchJson(url, headers, fetch.options);
  if (!session.ok) return { payload: reading.payload, fetchError: session.error };
  if (!isFields(session.value)) return { payload: reading.payload, fetchError: `GET ${url}: the answer is not an object` };
  const events = await fetchJson(`${url}/events?order=desc&limit=${EVENTS_READ}`, headers, fetch.options);
  const payload = withSession(reading.payload, session.value, events.ok ? lastAgentMessage(events.value) : null);
  return events.ok ? { payload } : { payload, fetchError: events.error };
}

export function anthropicSource(fetch: PlatformFetch | undefined): Source {
  return {
    name: "anthropic",
    read: (value, headers) => readPlatformEvent(value, headers, ANTHROPIC_ROUTES, anthropicEventType),
    complete(reading: Reading): Promise<Completion> | undefined {
      if (!fetch || !reading.topic.startsWith("session.")) return undefined;
      return readSession(fetch, reading);
    },
  };
}
