// The two nodes tests put before callback out to feed it over HTTP: POST /feed sends the msg on to
// the target and answers 200 at once (the callback's fate is then read from the admin API or sidebar).
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
