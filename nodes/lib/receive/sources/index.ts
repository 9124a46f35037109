// The sender module a callback in reads its requests with, chosen once when the node starts.
import { AGENT_LOOP, type SourceName, type Source } from "./source";
import { openAiSource, type PlatformFetch } from "./openai";
import { anthropicSource } from "./anthropic";

export function sourceFor(name: SourceName, fetch?: PlatformFetch): Source {
  if (name === "openai") return openAiSource(fetch);
  if (name === "anthropic") return anthropicSource(fetch);
  return AGENT_LOOP;
}
