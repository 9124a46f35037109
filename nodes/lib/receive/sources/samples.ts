// What "simulate" sends for a platform: a made-up event of the type a real one of that status has,
// read by the same code as a real event, its result filled in as if it had been read back from
// the platform's API. So a flow built for OpenAI or Anthropic events can be tried (msg.topic,
// msg.event, msg.payload.result) before the platform is set up.
import type { IncomingHttpHeaders } from "node:http";
import type { CallbackStatus } from "../../shared/payload";
import { randomHex } from "../../shared/random-hex";
import { ANTHROPIC_ROUTES, anthropicEventType, withSession } from "./anthropic";
import { OPENAI_ROUTES, openAiEventType, withResponse } from "./openai";
import { readPlatformEvent, type Fields } from "./platform-event";
import type { Reading } from "./source";

const SAMPLE_TEXT: Record<CallbackStatus, string> = {
  completed: "Sample result: the weekly report is ready. Nothing needs your attention.",
  failed: "Sample result: the task stopped before it finished.",
  timeout: "Sample result: the first part of the report (the rest did not fit).",
};

function read(event: Fields, table: typeof OPENAI_ROUTES, typeOf: (event: Fields) => string): Reading {
  const headers: IncomingHttpHeaders = { "webhook-id": `msg_sim_${randomHex(8)}` };
  const read = readPlatformEvent(event, headers, table, typeOf);
  // A sample is always an object with a type of the table: read() cannot refuse it.
  if (!read.ok) throw new Error(read.error);
  return read.reading;
}

/** An OpenAI background response's event (response.completed, .failed or .incomplete) with its response's text. */
export function openAiSample(status: CallbackStatus, now = Date.now()): Reading {
  const seconds = Math.floor(now / 1000);
  const type = OPENAI_ROUTES[status][0] as string;
  const id = `resp_sim_${randomHex(8)}`;
  const event = { id: `evt_sim_${randomHex(8)}`, object: "event", created_at: seconds, type, data: { id } };
  const reading = read(event, OPENAI_ROUTES, openAiEventType);
  const response: Fields = {
    id,
    object: "response",
    created_at: seconds - 42,
    completed_at: status === "completed" ? seconds : null,
    status: type.slice("response.".length),
    model: "gpt-5-mini",
    error: status === "failed" ? { code: "server_error", message: "Sample error: the model could not finish the response." } : null,
    incomplete_details: status === "timeout" ? { reason: "max_output_tokens" } : null,
    output: [{ type: "message", role: "assistant", content: [{ type: "output_text", text: SAMPLE_TEXT[status] }] }],
    usage: { input_tokens: 1200, output_tokens: 340, total_tokens: 1540 },
  };
  return { ...reading, payload: withResponse(reading.payload, response) };
}

/** A Claude Managed Agents session's event (idled, terminated, budget reached) with its agent's last message. */
export function anthropicSample(status: CallbackStatus, now = Date.now()): Reading {
  const type = ANTHROPIC_ROUTES[status][0] as string;
  const id = `sesn_sim_${randomHex(8)}`;
  const event = { type: "event", id: `wevt_sim_${randomHex(8)}`, created_at: new Date(now).toISOString(), data: { type, id } };
  const reading = read(event, ANTHROPIC_ROUTES, anthropicEventType);
  const session: Fields = {
    id,
    type: "session",
    title: "Sample session",
    created_at: new Date(now - 200_000).toISOString(),
    updated_at: new Date(now).toISOString(),
    agent: { id: "agent_sim", name: "Sample agent", model: { id: "claude-sonnet-4-5" } },
    stats: { duration_seconds: 200 },
    usage: { input_tokens: 900, output_tokens: 100 },
  };
  return { ...reading, payload: withSession(reading.payload, session, SAMPLE_TEXT[status]) };
}
