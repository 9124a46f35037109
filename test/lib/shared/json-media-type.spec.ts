import assert from "node:assert/strict";
import { isJsonMediaType } from "../../../nodes/lib/shared/json-media-type";

describe("lib/json-media-type", () => {
  it("takes application/json and application/*+json, with parameters and any case", () => {
    for (const type of [
      "application/json",
      "Application/JSON; charset=utf-8",
      " application/problem+json ",
      ["application/cloudevents+json", "text/plain"],
    ]) {
      assert.equal(isJsonMediaType(type), true, JSON.stringify(type));
    }
  });

  it("refuses other types, look-alikes and nothing", () => {
    for (const type of [undefined, "", "text/json", "application/json5", "application/x-www-form-urlencoded", "text/plain+json", []]) {
      assert.equal(isJsonMediaType(type), false, JSON.stringify(type));
    }
  });
});
