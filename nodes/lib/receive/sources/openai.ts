// OpenAI as a sender: webhook events (https://developers.openai.com/api/docs/guides/webhooks,
// the list in https://developers.openai.com/api/docs/api-reference/webhook-events) routed by the
// event's `type`. A background response's result is read back with the Responses API,
// GET {apiBase}/responses/{id} (the guide's own handler does this with responses.retrieve).
// Agents API sessions (agent.session.*) are routed, not read back: the session webhooks guide
// (https://developers.openai.com/api/docs/guides/agents-api/sessions/webhooks) says to retrieve the
// session but the API reference we could read gives no endpoint for it, so none is guessed.
import type { ReceivedPayload, Reading, Source, Completion } from "./source";
import { isFields, isoTime, readPlatformEvent, textOf, type Fields, type RoutingTable } from "./platform-event";
import { fetchJson, type FetchOptions } from "./fetch-json";

export const OPENAI_API_BASE = "https://api.openai.com/v1";

export const OPENAI_ROUTES: RoutingTable = {
  completed: ["response.completed", "batch.completed", "agent.session.idle", "fine_tuning.job.succeeded", "eval.run.succeeded"],
  failed: [
    "response.failed",
    "response.cancelled",
    "batch.failed",
    "batch.cancelled",
    "agent.session.failed",
    "fine_tuning.job.failed",
    "fine_tuning.job.cancelled",
    "eval.run.failed",
    "eval.run.canceled",
  ],
  timeout: ["response.incomplete", "batch.expired"],
};

/** The text of every output_text part of the response's message items, joined as the SDKs' output_text is. */
export function outputText(response: Fields): string {
  const texts: string[] = [];
  const items = Array.isArray(response.output) ? (response.output as unknown[]) : [];
  for (const item of items) {
    if (!isFields(item) || item.type !== "message" || !Array.isArray(item.content)) continue;
    for (const part of item.content as unknown[]) {
      if (isFields(part) && part.type === "output_text" && typeof part.text === "string") texts.push(part.text);
    }
  }
  return texts.join("");
}

/** The payload with what a Responses API response object says. */
export function withResponse(payload: ReceivedPayload, response: Fields): ReceivedPayload {
  const usage = isFields(response.usage) ? response.usage : {};
  const created = typeof response.created_at === "number" ? response.created_at : undefined;
  const completed = typeof response.completed_at === "number" ? response.completed_at : undefined;
  const error = isFields(response.error) ? textOf(response.error.message) : undefined;
  const incomplete = isFields(response.incomplete_details) ? textOf(response.incomplete_details.reason) : undefined;
  return {
    ...payload,
    result: { output: outputText(response) },
    metadata: {
      started_at: isoTime(created),
      completed_at: isoTime(completed) ?? payload.metadata?.completed_at ?? null,
      duration_seconds: created !== undefined && completed !== undefined ? Math.max(0, completed - created) : null,
      model: textOf(response.model) ?? null,
      tokens_used: Number.isSafeInteger(usage.total_tokens) ? (usage.total_tokens as number) : null,
    },
    error: error ?? incomplete ?? payload.error ?? null,
  };
}

/** An OpenAI event's type. */
export const openAiEventType = (event: Fields): string => textOf(event.type) ?? "";

export interface PlatformFetch {
  apiKey: string;
  /** Without a trailing slash. */
  apiBase: string;
  options?: FetchOptions;
}

export function openAiSource(fetch: PlatformFetch | undefined): Source {
  return {
    name: "openai",
    read: (value, headers) => readPlatformEvent(value, headers, OPENAI_ROUTES, openAiEventType),
    complete(reading: Reading): Promise<Completion> | undefined {
      if (!fetch || !reading.topic.startsWith("response.")) return undefined;
      const url = `${fetch.apiBase}/responses/${encodeURIComponent(reading.payload.execution_id)}`;
      return fetchJson(url, { authorization: `Bearer ${fetch.apiKey}`, accept: "application/json" }, fetch.options).then((got) => {
        if (!got.ok) return { payload: reading.payload, fetchError: got.error };
        if (!isFields(got.value)) return { payload: reading.payload, fetchError: `GET ${url}: the answer is not an object` };
        return { payload: withResponse(reading.payload, got.value) };
      });
    },
  };
}
