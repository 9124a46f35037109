// callback out's status times: in Node-RED's language (the catalog's status.time-locale), month names included.
import assert from "node:assert/strict";
import { clockTime } from "../../../nodes/lib/send/status";

describe("lib/send/status clockTime", () => {
  const threeDaysAgo = new Date();
  threeDaysAgo.setDate(threeDaysAgo.getDate() - 3);
  threeDaysAgo.setHours(14, 5, 9, 0);
  const month = (locale: string): string => new Intl.DateTimeFormat(locale, { month: "short" }).format(threeDaysAgo);

  it("writes another day's month in the given language and the time on a 24-hour clock", () => {
    const german = clockTime(threeDaysAgo.getTime(), "de");
    assert.ok(german.includes(month("de")), german);
    assert.ok(german.endsWith("14:05:09"), german);
    assert.ok(clockTime(threeDaysAgo.getTime(), "ja").includes(month("ja")));
    assert.notEqual(month("de"), month("en-US"), "the test needs a month whose German short name differs");
  });

  it("writes only the time for today", () => {
    const today = new Date();
    today.setHours(9, 8, 7, 0);
    assert.equal(clockTime(today.getTime(), "fr"), "09:08:07");
  });

  it("falls back to the default language for a locale Intl does not take", () => {
    assert.match(clockTime(threeDaysAgo.getTime(), "not a locale!"), /14:05:09$/);
  });
});
