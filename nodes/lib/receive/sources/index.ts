// The sender module a callback in reads its requests with, chosen once when the node starts.
import { AGENT_LOOP, type SourceName, type Source } from "./source";
import { openAiSource, type PlatformFetch } from "./openai";
import { anthropicSource } from "./anthropic";
import type { Translate } from "../../shared/messages";

export function sourceFor(name: SourceName, fetch?: PlatformFetch): Source {
  if (name === "openai") return openAiSource(fetch);
  if (name === "anthropic") return anthropicSource(fetch);
  return AGENT_LOOP;
}

/**
 * The node's sender; a platform's results are read back only with an API key to read them with
 * (`warn`s when missing), their errors worded with the node's messages `t`.
 */
export function sourceWithKey(
  settings: { source: SourceName; fetchResult: boolean; apiBase: string },
  apiKey: string,
  warnNoKey: () => void,
  t?: Translate,
): Source {
  if (settings.fetchResult && apiKey === "") warnNoKey();
  const options = t ? { t } : {};
  return sourceFor(settings.source, settings.fetchResult && apiKey !== "" ? { apiKey, apiBase: settings.apiBase, options } : undefined);
}
