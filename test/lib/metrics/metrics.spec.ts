// The metrics' fixed label values and the per-node recorders over the plugin's own Registry.
import assert from "node:assert/strict";
import { register as globalRegistry } from "prom-client";
import { REQUEST_OUTCOMES, emittedStatus, requestMetricOutcome } from "../../../nodes/lib/metrics/outcomes";
import { dropSeries, inMetrics, metricsText, outMetrics } from "../../../nodes/lib/metrics/registry";

describe("metrics: outcomes", () => {
  it("maps each of callback in's refusal causes to one of the few documented outcomes", () => {
    const expected: Record<string, string> = {
      accepted: "accepted",
      duplicate: "duplicate",
      "wrong-secret": "unauthorized",
      "missing-signature": "unauthorized",
      "stale-timestamp": "unauthorized",
      "invalid-json": "invalid",
      "invalid-payload": "invalid",
      "unsupported-media-type": "invalid",
      "too-large": "too_large",
      "rate-limited": "rate_limited",
      "client-rate-limited": "rate_limited",
      busy: "busy",
      pending: "busy",
      "store-unavailable": "unavailable",
      aborted: "aborted",
      consumed: "error",
    };
    for (const [cause, outcome] of Object.entries(expected)) assert.equal(requestMetricOutcome(cause), outcome, cause);
    for (const outcome of Object.values(expected)) assert.ok((REQUEST_OUTCOMES as readonly string[]).includes(outcome));
  });

  it("never lets an unknown cause or an inherited property name become a label value", () => {
    assert.equal(requestMetricOutcome("something-new"), "error");
    assert.equal(requestMetricOutcome("constructor"), "error");
    assert.equal(requestMetricOutcome("__proto__"), "error");
  });

  it("names the output a msg left on, a platform's other events as other", () => {
    assert.deepEqual([0, 1, 2, 3].map(emittedStatus), ["completed", "failed", "timeout", "other"]);
  });
});

describe("metrics: registry", () => {
  it("keeps its series out of prom-client's global registry", async () => {
    inMetrics("unit-global", "n").request("accepted");
    assert.doesNotMatch(await globalRegistry.metrics(), /agent_callback/);
    assert.match(await metricsText(), /node_id="unit-global"/);
    dropSeries("unit-global");
  });

  it("drops every series of a node, and only its", async () => {
    const a = outMetrics("unit-a", "A", { waiting: () => 4, paused: () => true });
    outMetrics("unit-b", "B", { waiting: () => 2, paused: () => false }).attempted("delivered");
    a.attempted("failed");
    a.attempted("gave_up");
    a.duration(0.2);
    let text = await metricsText();
    assert.match(text, /agent_callback_out_waiting\{node_id="unit-a",node_name="A"\} 4/);
    assert.match(text, /agent_callback_out_paused\{node_id="unit-a",node_name="A"\} 1/);
    assert.match(text, /agent_callback_out_delivery_seconds_count\{node_id="unit-a",node_name="A"\} 1/);
    dropSeries("unit-a");
    text = await metricsText();
    assert.doesNotMatch(text, /unit-a/);
    assert.match(text, /agent_callback_out_attempts_total\{node_id="unit-b",node_name="B",result="delivered"\} 1/);
    dropSeries("unit-b");
    assert.doesNotMatch(await metricsText(), /unit-b/);
  });

  it("starts a renamed node's series under its new name, without the old ones", async () => {
    inMetrics("unit-r", "old name").request("wrong-secret");
    inMetrics("unit-r", "new name").request("accepted");
    const text = await metricsText();
    assert.doesNotMatch(text, /old name/);
    assert.match(text, /agent_callback_in_requests_total\{node_id="unit-r",node_name="new name",outcome="accepted"\} 1/);
    dropSeries("unit-r");
  });
});
