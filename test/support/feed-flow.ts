// The two nodes tests put before callback out to feed it over HTTP: POST /feed sends the msg on to
// the target and answers 200 at once (the callback's fate is then read from the admin API or sidebar);
// and those after it that report its gave-up output and its status over HTTP.
interface FeedOptions {
  tab?: string;
  url?: string;
  x?: number;
  y?: number;
}

export function feedNodes(
  targetId: string,
  { tab = "tab", url = "/feed", x = 100, y = 60 }: FeedOptions = {},
): Array<Record<string, unknown>> {
  return [
    { id: "feed", type: "http in", z: tab, url, method: "post", upload: false, swaggerDoc: "", x, y, wires: [[targetId, "ack"]] },
    { id: "ack", type: "http response", z: tab, statusCode: "200", headers: {}, x: x + 200, y: y + 40, wires: [] },
  ];
}

/**
 * callback out `outId`'s gave-up output (wire it to "gave-up-shape") and its status, each POSTed to
 * `outcomesUrl` as {output: "gave-up", cancelled, error, executionId} or {output: "status", text}.
 */
export function outcomeNodes(outcomesUrl: string, outId = "out", tab = "tab"): unknown[] {
  const post = (id: string, y: number): Record<string, unknown> => ({
    id,
    type: "http request",
    z: tab,
    method: "POST",
    ret: "txt",
    paytoqs: "ignore",
    url: outcomesUrl,
    tls: "",
    persist: false,
    proxy: "",
    authType: "",
    senderr: false,
    headers: [],
    x: 800,
    y,
    wires: [[]],
  });
  const shape = (id: string, to: string, y: number, next: string): Record<string, unknown> => ({
    id,
    type: "change",
    z: tab,
    // The reply's headers would go out as the request's own (http request uses msg.headers).
    rules: [
      { t: "set", p: "payload", pt: "msg", to, tot: "jsonata" },
      { t: "delete", p: "headers", pt: "msg" },
    ],
    x: 600,
    y,
    wires: [[next]],
  });
  return [
    shape(
      "gave-up-shape",
      '{"output": "gave-up", "cancelled": cancelled, "error": error, "executionId": callback.execution_id}',
      320,
      "gave-up-post",
    ),
    post("gave-up-post", 320),
    { id: "out-status", type: "status", z: tab, scope: [outId], x: 100, y: 360, wires: [["status-shape"]] },
    shape("status-shape", '{"output": "status", "text": status.text}', 360, "status-post"),
    post("status-post", 360),
  ];
}
