// Harness nodes for the bench and the reliability suite, loaded from settings.nodesDir (not part of
// the plugin). Plain JS because Node-RED loads them as they are.
//
// The feeder used to be a Function node: each msg then cost a vm run and a deep copy, about 40 µs
// that showed up as the sender's own cost. These nodes do only what the harness needs, so the
// bench compares the senders, not the way msgs are made for them.
module.exports = function (RED) {
  /**
   * Keeps `window` msgs outstanding on the node under test: a complete node scoped to that node is
   * wired back here, and each completion lets one more msg go. A msg with `req` (from http in)
   * starts a run of payload.count msgs (execution_ids exec_<first>..) and is answered on output 2.
   * Progress is kept in global context "feeder" (one object, updated in place) for GET /__probe.
   */
  function HarnessFeeder(config) {
    RED.nodes.createNode(this, config);
    const template = config.template;
    const windowSize = Number(config.window);
    const state = { total: 0, next: 0, outstanding: 0, completed: 0 };
    this.context().global.set("feeder", state);
    this.on("input", (msg, send, done) => {
      if (msg.req) {
        const first = Number(msg.payload.first || 0);
        state.total = first + Number(msg.payload.count);
        state.next = first;
        state.outstanding = 0;
        state.completed = 0;
        send([null, { req: msg.req, res: msg.res, payload: { started: true } }]);
      } else {
        state.outstanding -= 1;
        state.completed += 1;
      }
      while (state.outstanding < windowSize && state.next < state.total) {
        const payload = Object.assign({}, template, {
          execution_id: `exec_${state.next}`,
          result: Object.assign({}, template.result),
          metadata: Object.assign({}, template.metadata),
        });
        state.next += 1;
        state.outstanding += 1;
        // One send per msg: Node-RED copies every msg after the first of one send() call.
        send([{ payload }, null]);
      }
      done();
    });
  }
  RED.nodes.registerType("harness-feeder", HarnessFeeder);

  /** Takes each msg and completes it at once: stands in for the node under test ("feed alone"). */
  function HarnessDrop(config) {
    RED.nodes.createNode(this, config);
    this.on("input", (_msg, _send, done) => done());
  }
  RED.nodes.registerType("harness-drop", HarnessDrop);
};
